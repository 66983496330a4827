// Small DOM helpers. Text always goes in as text nodes (never HTML), so
// nothing an event contains can run as markup.

export const $ = (sel, root = document) => root.querySelector(sel);

// el builds an element: attrs are properties (class, href, text…) or
// data-*/aria-* attributes; children are nodes or strings.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("data-") || k.startsWith("aria-") || k === "role" || k === "scope") node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    node.append(typeof c === "string" || typeof c === "number" ? String(c) : c);
  }
  return node;
}

const numbers = new Intl.NumberFormat("en");
export const num = (n) => numbers.format(n);

// idOf gives the id of an entity-valued property (an object with id, or an IRI).
export function idOf(v) {
  if (v && typeof v === "object") return v.id || "";
  return typeof v === "string" ? v : "";
}

// utc shows an RFC 3339 time in UTC, to the second ("2026-12-04 20:31:07").
export function utc(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso ?? "");
  return d.toISOString().replace("T", " ").replace(/\.\d+Z$|Z$/, "");
}

// short shortens a long IRI to its last path segments for a table cell.
export function short(iri, max = 48) {
  if (!iri || iri.length <= max) return iri || "";
  return "…" + iri.slice(iri.length - max + 1);
}

// status shows a message in the status line (empty clears it).
export function status(msg, isError = false) {
  const s = $("#status");
  s.textContent = msg || "";
  s.classList.toggle("error", Boolean(isError));
}

// copyFrom copies an input's value to the clipboard, selecting it when the
// clipboard is not available (plain http on another host).
export async function copyFrom(input) {
  input.select();
  try {
    await navigator.clipboard.writeText(input.value);
    status("Copied.");
  } catch {
    document.execCommand?.("copy");
  }
}
