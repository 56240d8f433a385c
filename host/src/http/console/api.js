// The JSON API, called with the token kept in this tab's sessionStorage.

const KEY = 'kith.token';

export const token = {
  get: () => sessionStorage.getItem(KEY) || '',
  set: (t) => sessionStorage.setItem(KEY, t),
  clear: () => sessionStorage.removeItem(KEY),
};

/** An API error: its status, code, message and the fields it names. */
export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || '';
    this.details = e.details || [];
  }
}

/** Calls the API; resolves to the JSON body (null when empty), throws ApiError. */
export async function api(method, path, body, type) {
  const headers = {};
  const t = token.get();
  if (t) headers.Authorization = `Bearer ${t}`;
  let payload;
  if (body instanceof Blob || body instanceof ArrayBuffer) {
    headers['Content-Type'] = type || 'application/wasm';
    payload = body;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const resp = await fetch(path, { method, headers, body: payload });
  const text = await resp.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = { error: { message: text } }; }
  if (!resp.ok) throw new ApiError(resp.status, json);
  return json;
}

export const get = (path) => api('GET', path);
export const enc = encodeURIComponent;
