// The event list: filters (kept in the URL), pages in stored order with
// "Load more", the total, and the same query as an API URL.

import { $, el, num, idOf, utc, short } from "./dom.js";
import { call, query, apiURL, stats, total } from "./api.js";

export const filterNames = ["actor", "course", "action", "type", "object", "profile", "since", "until"];
const timeNames = ["since", "until"];

let loadedKey = null; // the query of the rows on screen
let lastOpened = null; // the id of the event opened from the list

// show renders #/events?…; true when the rows on screen are already these.
export async function show(params, section) {
  setup(section);
  const key = String(params);
  fillForm($("#event-filters"), params);
  if (key === loadedKey && section.querySelector("tbody").children.length) {
    markOpened(section);
    return true;
  }
  loadedKey = key;
  const filters = {};
  for (const n of filterNames) if (params.getAll(n).length) filters[n] = params.getAll(n);
  const list = query({ ...filters, ascending: params.get("ascending") || "" });
  $("#events-api").value = apiURL("/api/v1/events", list);
  const tbody = section.querySelector("tbody");
  tbody.replaceChildren();
  $("#events-summary").textContent = "Loading…";
  const page = await call("/api/v1/events?" + list);
  append(page, tbody, filters, params.get("ascending") === "true");
  return false;
}

let wired = false;
function setup(section) {
  if (wired) return;
  wired = true;
  const form = $("#event-filters");
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = "#/events?" + formQuery(form);
  });
  form.addEventListener("reset", () => setTimeout(() => { location.hash = "#/events"; }));
  wireChoices(form);
  openOnClick(section.querySelector("tbody"));
}

// wireChoices offers each field's choices from the tenant's own counts,
// asked the first time the field is used (a large tenant pays only for
// what is used). The datalists are shared by the forms.
export function wireChoices(form) {
  for (const name of ["actor", "course", "action", "type", "object"]) {
    const input = form.elements[name];
    if (input) input.addEventListener("focus", () => fillChoices(name), { once: true });
  }
}

// openOnClick opens the event of a clicked row (anywhere in it).
export function openOnClick(tbody) {
  tbody.addEventListener("click", (e) => {
    if (e.target.closest("a")) return;
    const tr = e.target.closest("tr[data-id]");
    if (!tr) return;
    lastOpened = tr.dataset.id;
    location.hash = "#/event?id=" + encodeURIComponent(tr.dataset.id);
  });
}

async function fillChoices(name) {
  const dl = $("#dl-" + name);
  try {
    const res = await stats({ by: name, limit: 200 });
    dl.replaceChildren(...res.groups.filter((g) => g[name] !== null).map((g) => el("option", { value: g[name], label: `${num(g.count)} events` })));
  } catch { /* the field works without choices */ }
}

// formQuery turns the form into the URL's parameters; datetime-local
// values are read as UTC.
export function formQuery(form, names = filterNames) {
  const q = new URLSearchParams();
  for (const n of names) {
    let v = form.elements[n].value.trim();
    if (!v) continue;
    if (timeNames.includes(n)) v = new Date(v + "Z").toISOString();
    q.append(n, v);
  }
  if (form.elements.ascending?.value) q.set("ascending", "true");
  return q;
}

// fillForm shows the URL's parameters in the form.
export function fillForm(form, params, names = filterNames) {
  for (const n of names) {
    let v = params.get(n) || "";
    if (v && timeNames.includes(n)) v = v.replace(/(\.\d+)?Z$/, "");
    form.elements[n].value = v;
  }
  if (form.elements.ascending) form.elements.ascending.value = params.get("ascending") === "true" ? "true" : "";
}

// row is an event's table row: event time (opening it), type, action, actor, object.
export function row(ev) {
  const link = el("a", { href: "#/event?id=" + encodeURIComponent(ev.id), text: utc(ev.eventTime) });
  link.addEventListener("click", () => { lastOpened = ev.id; });
  return el("tr", { "data-id": ev.id },
    el("td", {}, link),
    el("td", { text: ev.type || "" }),
    el("td", { text: ev.action || "" }),
    el("td", { title: idOf(ev.actor), text: short(idOf(ev.actor)) }),
    el("td", { title: idOf(ev.object), text: short(idOf(ev.object)) }));
}

function append(page, tbody, filters, ascending) {
  for (const ev of page.events) tbody.append(row(ev));
  const more = $("#events-more");
  more.hidden = !page.more;
  more.onclick = async () => {
    more.disabled = true;
    try { append(await call(page.more), tbody, filters, ascending); } finally { more.disabled = false; }
  };
  const shown = tbody.children.length;
  const order = ascending ? "oldest stored first" : "newest stored first";
  const summary = $("#events-summary");
  summary.textContent = shown ? `Showing ${num(shown)} events, in stored order (${order}).` : "No events match.";
  if (shown) {
    total(filters).then((t) => {
      summary.textContent = `Showing ${num(shown)} of ${num(t.count)} matching events, in stored order (${order}).`;
    }).catch(() => {});
  }
}

function markOpened(section) {
  for (const tr of section.querySelectorAll("tr.current")) tr.classList.remove("current");
  if (!lastOpened) return;
  const tr = section.querySelector(`tr[data-id="${CSS.escape(lastOpened)}"]`);
  if (tr) {
    tr.classList.add("current");
    tr.querySelector("a").focus({ preventScroll: true });
  }
}
