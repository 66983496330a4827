// Live tail: new events as they are stored, over GET /api/v1/stream with a
// short-lived stream ticket (EventSource cannot send the token, and the
// token never goes in a URL). Pause holds new events back; the page keeps
// the latest maxRows.

import { $, el, num } from "./dom.js";
import { call, query, apiURL } from "./api.js";
import { formQuery, fillForm, wireChoices, row } from "./events.js";

export const names = ["actor", "course", "action", "type", "object", "profile"];
export const maxRows = 200;

let es = null; // the open EventSource
let retry = null; // the reconnect timer
let key = null; // the filters of the rows on screen
let lastId = ""; // the cursor after the last event received
let received = 0;
let paused = false;
let waiting = []; // events received while paused, newest last (at most maxRows)
let held = 0; // how many were received while paused
let backoff = 1000;

export async function show(params, section) {
  setup(section);
  const form = $("#live-filters");
  fillForm(form, params, names);
  const filters = {};
  for (const n of names) if (params.getAll(n).length) filters[n] = params.getAll(n);
  const q = query(filters);
  $("#live-api").value = apiURL("/api/v1/stream", q);
  const same = String(q) === key;
  if (!same) {
    key = String(q);
    lastId = "";
    received = held = 0;
    waiting = [];
    section.querySelector("tbody").replaceChildren();
  }
  await connect();
  return same;
}

// hide closes the stream when the view is left; coming back resumes after
// the last event received, so nothing is missed.
export function hide() {
  clearTimeout(retry);
  retry = null;
  if (es) { es.close(); es = null; }
}

async function connect() {
  hide();
  state("Connecting…");
  let ticket;
  try {
    ticket = await call("/api/v1/stream/tickets", { method: "POST" });
  } catch (err) {
    state("Could not get a stream ticket: " + err.message, true);
    return;
  }
  const q = new URLSearchParams(key);
  if (lastId) q.set("cursor", lastId);
  const src = new EventSource(ticket.url + (String(q) ? "&" + q : ""));
  es = src;
  src.onopen = () => { backoff = 1000; state(); };
  src.onmessage = (m) => {
    lastId = m.lastEventId || lastId;
    received++;
    let ev;
    try { ev = JSON.parse(m.data); } catch { return; }
    if (paused) {
      held++;
      waiting.push(ev);
      if (waiting.length > maxRows) waiting.shift();
    } else {
      add([ev]);
    }
    state();
  };
  // The server ends a stream that fell behind or is stopping, with the cursor to resume from.
  src.addEventListener("closed", (m) => {
    try { lastId = JSON.parse(m.data).cursor || lastId; } catch { /* keep lastId */ }
    later();
  });
  // EventSource would retry with the same (soon expired) ticket: retry
  // ourselves with a new one, after the last event received.
  src.onerror = () => { if (es === src) later(); };
}

function later() {
  if (es) { es.close(); es = null; }
  state(`Disconnected; reconnecting in ${backoff / 1000} s…`);
  clearTimeout(retry);
  retry = setTimeout(connect, backoff);
  backoff = Math.min(backoff * 2, 16000);
}

// add puts events on top (newest first) and drops the oldest beyond maxRows.
function add(evs) {
  const tbody = $("#live-table tbody");
  for (const ev of evs) tbody.prepend(row(ev));
  while (tbody.children.length > maxRows) tbody.lastElementChild.remove();
}

function state(msg, isError = false) {
  const s = $("#live-state");
  s.classList.toggle("error", isError);
  if (msg) { s.textContent = msg; return; }
  const shown = $("#live-table tbody").children.length;
  s.textContent = paused
    ? `Paused: ${num(held)} new ${held === 1 ? "event" : "events"} waiting (${num(received)} received).`
    : `Live: ${num(received)} ${received === 1 ? "event" : "events"} received since opened, the latest ${num(shown)} shown.`;
}

let wired = false;
function setup(section) {
  if (wired) return;
  wired = true;
  const form = $("#live-filters");
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = "#/live?" + formQuery(form, names);
  });
  form.addEventListener("reset", () => setTimeout(() => { location.hash = "#/live"; }));
  wireChoices(form);
  const pause = $("#live-pause");
  pause.addEventListener("click", () => {
    paused = !paused;
    pause.setAttribute("aria-pressed", String(paused));
    pause.textContent = paused ? "Resume" : "Pause";
    if (!paused) {
      add(waiting);
      waiting = [];
      held = 0;
    }
    state();
  });
  $("#live-clear").addEventListener("click", () => {
    section.querySelector("tbody").replaceChildren();
    received = held = 0;
    waiting = [];
    state();
  });
}
