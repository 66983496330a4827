// The UI's router: the view and its parameters live after # in the URL
// (#/events?action=Viewed), so every view can be linked, bookmarked and
// reached with Back. The server never sees them.

import { $, status } from "./dom.js";
import { token, setToken, APIError } from "./api.js";
import * as events from "./events.js";
import * as detail from "./detail.js";
import * as overview from "./overview.js";
import * as live from "./live.js";
import * as exporter from "./export.js";
import * as course from "./course.js";

const views = {
  overview,
  events,
  event: detail,
  live,
  export: exporter,
  course,
};
const fallback = "overview";

let current = null; // { name, key }
const scrolls = new Map(); // route key → window.scrollY when left

export function parseHash(hash = location.hash) {
  const m = /^#\/([a-z]+)(?:\?(.*))?$/.exec(hash);
  if (!m) return null;
  return { name: m[1], params: new URLSearchParams(m[2] || "") };
}

export async function route() {
  const r = parseHash() || { name: fallback, params: new URLSearchParams() };
  const view = views[r.name] ? r.name : fallback;
  const key = view + "?" + r.params;
  if (current) {
    scrolls.set(current.key, window.scrollY);
    views[current.name].hide?.(); // a view with a connection (live) closes it
  }
  for (const s of document.querySelectorAll("section.view")) s.hidden = true;
  for (const a of document.querySelectorAll("header nav a")) {
    if (a.dataset.view === view) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (!token()) {
    $("#view-welcome").hidden = false;
    current = null;
    $("#token").focus();
    return;
  }
  const section = $("#view-" + view);
  section.hidden = false;
  current = { name: view, key };
  status("");
  try {
    const kept = await views[view].show(r.params, section);
    // A view that kept its content (the same list as before) gets its
    // scroll position back: opening an event and coming back keeps the place.
    window.scrollTo(0, kept ? scrolls.get(key) || 0 : 0);
  } catch (err) {
    status(err instanceof APIError && err.status === 401
      ? "The token was refused (unknown, revoked, expired, or without the read scope): " + err.message
      : err.message, true);
  }
}

function setup() {
  const input = $("#token");
  input.value = token();
  // Enter in the token field submits the form.
  $("#token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    setToken(input.value.trim());
    route();
  });
  $("#token-forget").addEventListener("click", () => {
    setToken("");
    input.value = "";
    route();
  });
  document.addEventListener("click", (e) => {
    const b = e.target.closest("button.copy");
    if (b) import("./dom.js").then((d) => d.copyFrom($("#" + b.dataset.copy)));
  });
  window.addEventListener("hashchange", route);
  route();
}

setup();
