// The read API, with the token of this tab. The token lives in
// sessionStorage only (gone when the tab closes) and goes only in the
// Authorization header, never in a URL.

const tokenKey = "lrs-token";

export const token = () => sessionStorage.getItem(tokenKey) || "";

export function setToken(t) {
  if (t) sessionStorage.setItem(tokenKey, t);
  else sessionStorage.removeItem(tokenKey);
}

// APIError is a refused call: status and the problem's detail.
export class APIError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

// call fetches path with the token and returns the parsed JSON body, or
// throws an APIError. opts.raw returns the Response instead.
export async function call(path, opts = {}) {
  const headers = { ...(opts.headers || {}) };
  if (token()) headers.Authorization = "Bearer " + token();
  const res = await fetch(path, { ...opts, headers });
  if (!res.ok) {
    const problem = await res.json().catch(() => ({}));
    throw new APIError(res.status, problem);
  }
  if (opts.raw) return res;
  if (res.status === 204) return null;
  return res.json();
}

// query builds URLSearchParams from an object, repeating arrays and
// leaving out empty values.
export function query(obj) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(obj)) {
    for (const one of Array.isArray(v) ? v : [v]) {
      if (one !== undefined && one !== null && one !== "") q.append(k, String(one));
    }
  }
  return q;
}

// apiURL is the absolute URL of an API call, for copying into scripts.
export const apiURL = (path, q) => location.origin + path + (q && String(q) ? "?" + q : "");

// stats asks GET /api/v1/stats.
export const stats = (params) => call("/api/v1/stats?" + query(params));

// total counts the events matching filters: the sum of the counts by type
// (types are few, and roll-ups answer it when the filters allow).
export async function total(filters) {
  const res = await stats({ ...filters, by: "type", limit: 10000 });
  return { count: res.groups.reduce((n, g) => n + g.count, 0), truncated: res.truncated, source: res.source };
}
