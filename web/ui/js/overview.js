// The overview: totals, activity over event time (uPlot), and the largest
// groups by action, type, course and object, each saying how many it shows
// of how many there are.

import { $, el, num, utc, short } from "./dom.js";
import { call, query, stats, total } from "./api.js";
import { barChart } from "./chart.js";

const tops = [
  ["action", "Top actions"], ["type", "Event types"], ["course", "Courses"], ["object", "Objects"],
];
const shown = 20;
const asked = 1000; // groups asked, to say "20 of N" (beyond: "more than 1,000")

let range = 30;

export async function show() {
  setup();
  const totals = $("#ov-totals");
  totals.replaceChildren();
  const card = (label, value, note) => {
    const c = el("div", { class: "card" }, el("div", { class: "big", text: value }), el("div", { class: "label", text: label }),
      note ? el("div", { class: "label", text: note }) : null);
    totals.append(c);
    return c;
  };
  const [events, actors, courses, last] = await Promise.all([
    total({}), groups("actor"), groups("course"), lastStored(),
  ]);
  card("events", num(events.count));
  card("actors", actors.text);
  card("courses", courses.text);
  card("last stored", last.text, last.note);
  await Promise.all([chart(), ...tops.map(([by, title]) => top(by, title))]);
  return false;
}

let wired = false;
function setup() {
  if (wired) return;
  wired = true;
  for (const b of document.querySelectorAll("#view-overview [data-range]")) {
    b.addEventListener("click", () => { range = Number(b.dataset.range); chart(); });
  }
}

// groups counts the distinct values of a dimension, up to asked.
async function groups(by) {
  const res = await stats({ by, limit: asked });
  const n = res.groups.filter((g) => g[by] !== null).length;
  return { n, truncated: res.truncated, text: res.truncated ? `more than ${num(asked)}` : num(n) };
}

// lastStored: the newest stored event's stored time (stored order, not event time).
async function lastStored() {
  const page = await call("/api/v1/events?limit=1");
  if (!page.events.length) return { text: "—", note: "nothing stored yet" };
  const res = await call("/api/v1/events/" + encodeURIComponent(page.events[0].id), { raw: true });
  const at = res.headers.get("X-Stored-At");
  return { text: at ? utc(at).slice(11, 19) : "?", note: at ? utc(at).slice(0, 10) + " UTC" : "" };
}

async function chart() {
  for (const b of document.querySelectorAll("#view-overview [data-range]")) b.setAttribute("aria-pressed", String(Number(b.dataset.range) === range));
  const hourly = range <= 7;
  const step = hourly ? 3600e3 : 86400e3;
  const until = Math.ceil(Date.now() / step) * step;
  const since = until - range * 86400e3;
  const by = hourly ? "hour" : "day";
  const res = await stats({ by, since: new Date(since).toISOString(), until: new Date(until).toISOString(), limit: 10000 });
  const counts = new Map(res.groups.map((g) => [Date.parse(hourly ? g.hour : g.day + "T00:00:00Z"), g.count]));
  const xs = [], ys = [];
  for (let t = since; t < until; t += step) { xs.push(t / 1000); ys.push(counts.get(t) || 0); }
  const sum = ys.reduce((a, b) => a + b, 0);
  $("#ov-chart-title").textContent = `Activity: ${num(sum)} events in the last ${range === 1 ? "24 hours" : range + " days"}, per ${by}` +
    (res.source === "rollup" ? " (from roll-ups)" : "");
  barChart($("#ov-chart"), xs, ys, "events");
}

async function top(by, title) {
  const res = await stats({ by, limit: asked });
  const rows = res.groups.slice(0, shown);
  const of = res.truncated ? `more than ${num(asked)}` : num(res.groups.length);
  const max = Math.max(1, ...rows.map((g) => g.count));
  const list = el("ol");
  for (const g of rows) {
    const key = g[by];
    const label = key === null ? el("span", { class: "muted", text: "(none)" })
      : el("a", { href: by === "course" ? "#/course?" + query({ id: key }) : "#/events?" + query({ [by]: key }), title: key, text: short(key, 60) });
    const bar = el("span", { class: "bar" });
    bar.style.width = (100 * g.count / max).toFixed(1) + "%";
    list.append(el("li", {}, label, el("span", { class: "num", text: num(g.count) }), bar));
  }
  let box = $("#ov-top-" + by);
  if (!box) {
    box = el("div", { class: "card top", id: "ov-top-" + by });
    $("#ov-tops").append(box);
  }
  box.replaceChildren(el("h3", { text: title }),
    el("p", { class: "label muted", text: rows.length ? `showing ${rows.length} of ${of}, largest first` : "none" }), list);
}
