// One event: its fields in words, links to what it is about, and the raw JSON.

import { $, el, idOf, utc } from "./dom.js";
import { call, query } from "./api.js";

// Properties shown as fields, in this order, with how to link them.
const fields = [
  ["type", "Type", "type"], ["action", "Action", "action"], ["eventTime", "Event time"], ["actor", "Actor", "actor"],
  ["object", "Object", "object"], ["target", "Target"], ["generated", "Generated"], ["referrer", "Referrer"],
  ["group", "Course (group)", "course"], ["membership", "Membership"], ["session", "Session", "session"],
  ["edApp", "Application (edApp)", "edapp"], ["profile", "Profile", "profile"], ["federatedSession", "LTI session"],
];

export async function show(params) {
  const id = params.get("id") || "";
  $("#event-envelope").hidden = true;
  $("#event-fields").replaceChildren();
  $("#event-links").replaceChildren();
  $("#event-json").textContent = "Loading…";
  $("#event-back").href = backHash || "#/events";
  const res = await call("/api/v1/events/" + encodeURIComponent(id), { raw: true });
  const ev = await res.json();
  $("#event-title").textContent = `${ev.type || "Event"} · ${ev.action || ""}`;
  $("#event-json").textContent = JSON.stringify(ev, null, 2);
  const dl = $("#event-fields");
  add(dl, "Id", el("code", { text: ev.id }));
  for (const [name, label, filter] of fields) {
    if (ev[name] === undefined) continue;
    add(dl, label, describe(ev[name], name, filter));
  }
  const stored = res.headers.get("X-Stored-At");
  if (stored) add(dl, "Stored at", el("span", { text: utc(stored) + " (when the store received it; lists are in this order)" }));
  if (ev.extensions) add(dl, "Extensions", el("pre", { text: JSON.stringify(ev.extensions, null, 2) }));

  const links = $("#event-links");
  const actor = idOf(ev.actor), object = idOf(ev.object), course = idOf(ev.group);
  if (actor) links.append(el("a", { href: "#/events?" + query({ actor }), text: "Events of this actor" }));
  if (object) links.append(el("a", { href: "#/events?" + query({ object }), text: "Events on this object" }));
  if (course) links.append(el("a", { href: "#/events?" + query({ course }), text: "Events of this course" }));
  if (course) links.append(el("a", { href: "#/course?" + query({ id: course }), text: "Course view" }));
  const envelope = /<([^>]+)>;\s*rel="envelope"/.exec(res.headers.get("Link") || "");
  if (envelope) {
    const b = el("button", { type: "button", class: "secondary", text: "Show its envelope" });
    b.addEventListener("click", async () => {
      const env = await call(envelope[1]);
      $("#event-envelope-json").textContent = JSON.stringify(env, null, 2);
      $("#event-envelope").hidden = false;
      $("#event-envelope").scrollIntoView({ block: "nearest" });
    });
    links.append(b);
  }
  return false;
}

// backHash is the list the event was opened from (the Back link returns there).
let backHash = "";
window.addEventListener("hashchange", (e) => {
  const from = new URL(e.oldURL).hash;
  if (!from.startsWith("#/event?")) backHash = from;
});

function add(dl, label, value) {
  dl.append(el("dt", { text: label }), el("dd", {}, value));
}

// describe shows an entity (its id, type and name) or a plain value, with a
// link to the events that share it when the API can filter on it.
function describe(v, name, filter) {
  if (name === "eventTime") return el("span", { text: utc(v) + " UTC (" + v + " as sent)" });
  const id = idOf(v);
  if (!id) return el("span", { text: typeof v === "object" ? JSON.stringify(v) : String(v) });
  const parts = [];
  if (filter) parts.push(el("a", { href: "#/events?" + query({ [filter]: id }), text: id }));
  else parts.push(el("code", { text: id }));
  if (typeof v === "object") {
    const extra = [v.type, v.name].filter(Boolean).join(" · ");
    if (extra) parts.push(el("span", { class: "muted", text: " " + extra }));
  }
  return el("span", {}, ...parts);
}
