// One course (the event's group): activity and learners active per day
// over event time, the media and assessment breakdown, and its top
// objects — the questions instructors and researchers ask first. All of it
// from GET /api/v1/stats with course=….

import { $, el, num, short } from "./dom.js";
import { query, apiURL, stats } from "./api.js";
import { barChart } from "./chart.js";

const days = 30;
const breakdown = ["MediaEvent", "AssessmentEvent", "AssessmentItemEvent", "GradeEvent"];

export async function show(params) {
  const id = params.get("id") || "";
  $("#course-title").textContent = "Course " + short(id, 80);
  $("#course-id").textContent = id;
  const f = { course: id };
  $("#course-links").replaceChildren(
    el("a", { href: "#/events?" + query(f), text: "Its events" }),
    el("a", { href: "#/live?" + query(f), text: "Live" }),
    el("a", { href: "#/export?" + query(f), text: "Export" }));
  const until = Math.ceil(Date.now() / 86400e3) * 86400e3;
  const since = until - days * 86400e3;
  const range = { since: new Date(since).toISOString(), until: new Date(until).toISOString() };
  const activityQ = { ...f, ...range, by: "day", limit: 10000 };
  const learnersQ = { ...activityQ, count: "actors" };
  const mixQ = { ...f, by: "type,action", limit: 1000 };
  const objectsQ = { ...f, by: "object", limit: 1000 };
  $("#course-api").value = apiURL("/api/v1/stats", query(learnersQ));
  const [activity, learners, mix, objects] = await Promise.all([stats(activityQ), stats(learnersQ), stats(mixQ), stats(objectsQ)]);
  const xs = [];
  for (let t = since; t < until; t += 86400e3) xs.push(t / 1000);
  const series = (res) => {
    const m = new Map(res.groups.map((g) => [Date.parse(g.day + "T00:00:00Z"), g.count]));
    return xs.map((x) => m.get(x * 1000) || 0);
  };
  const events = series(activity);
  $("#course-activity-title").textContent = `Activity: ${num(events.reduce((a, b) => a + b, 0))} events in the last ${days} days, per day`;
  barChart($("#course-activity"), xs, events, "events");
  const active = series(learners);
  $("#course-learners-title").textContent = `Learners active per day (most: ${num(Math.max(0, ...active))})` +
    (learners.approximate ? " — estimates from roll-ups" : "");
  barChart($("#course-learners"), xs, active, "learners");

  const tbody = $("#course-mix tbody");
  tbody.replaceChildren();
  const rows = mix.groups.filter((g) => breakdown.includes(g.type))
    .sort((a, b) => breakdown.indexOf(a.type) - breakdown.indexOf(b.type) || b.count - a.count);
  for (const g of rows) {
    tbody.append(el("tr", {},
      el("td", {}, el("a", { href: "#/events?" + query({ ...f, type: g.type }), text: g.type })),
      el("td", {}, el("a", { href: "#/events?" + query({ ...f, type: g.type, action: g.action }), text: g.action ?? "(none)" })),
      el("td", { class: "num", text: num(g.count) })));
  }
  $("#course-mix-note").textContent = rows.length ? "" : "No media or assessment events in this course.";

  const list = $("#course-objects");
  list.replaceChildren(...objects.groups.slice(0, 20).map((g) => el("li", {},
    g.object === null ? el("span", { class: "muted", text: "(none)" })
      : el("a", { href: "#/events?" + query({ ...f, object: g.object }), title: g.object, text: short(g.object, 60) }),
    el("span", { class: "num", text: num(g.count) }))));
  $("#course-objects-note").textContent = `showing ${Math.min(20, objects.groups.length)} of ` +
    (objects.truncated ? `more than ${num(1000)}` : num(objects.groups.length)) + ", largest first";
  return false;
}
