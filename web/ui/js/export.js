// Export: every matching event as a file (NDJSON or CSV), downloaded by the
// browser itself from GET /api/v1/export. The link carries a one-minute
// stream ticket, not the token; the server sends Content-Disposition:
// attachment, so the browser writes the file to disk as it arrives and the
// page never holds it.

import { $, el, num } from "./dom.js";
import { call, query, apiURL, total } from "./api.js";
import { filterNames, formQuery, fillForm, wireChoices } from "./events.js";

export async function show(params) {
  setup();
  const form = $("#export-filters");
  fillForm(form, params);
  form.elements.format.value = params.get("format") === "csv" ? "csv" : "ndjson";
  const filters = {};
  for (const n of filterNames) if (params.getAll(n).length) filters[n] = params.getAll(n);
  const format = form.elements.format.value;
  $("#export-api").value = apiURL("/api/v1/export", query({ ...filters, format }));
  const summary = $("#export-summary");
  summary.textContent = "Counting…";
  const t = await total(filters);
  summary.textContent = `${num(t.count)} matching ${t.count === 1 ? "event" : "events"}, as ${format === "csv" ? "CSV (a header line, then one row per event)" : "NDJSON (one event per line)"}.`;
  return false;
}

let wired = false;
function setup() {
  if (wired) return;
  wired = true;
  const form = $("#export-filters");
  wireChoices(form);
  const params = () => {
    const q = formQuery(form);
    q.set("format", form.elements.format.value);
    return q;
  };
  form.addEventListener("change", () => { location.hash = "#/export?" + params(); });
  form.addEventListener("reset", () => setTimeout(() => { location.hash = "#/export"; }));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const q = params();
    if (location.hash !== "#/export?" + q) location.hash = "#/export?" + q;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const { ticket } = await call("/api/v1/stream/tickets", { method: "POST" });
      q.set("ticket", ticket);
      const format = q.get("format");
      const a = el("a", { href: "/api/v1/export?" + q, download: "events." + format, hidden: true });
      document.body.append(a);
      a.click(); // the browser's download, streamed to disk
      a.remove();
      $("#export-started").textContent = `Download of events.${format} started; the browser saves it as it arrives.`;
    } catch (err) {
      $("#export-started").textContent = "Could not start the download: " + err.message;
    } finally {
      button.disabled = false;
    }
  });
}
