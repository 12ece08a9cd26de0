// The admin API: JSON in, JSON out, same origin with the session cookie. No secrets kept here.

export class ApiFailure extends Error {
  constructor(status, field, message) {
    super(message);
    this.status = status;
    this.field = field;
  }
}

export const state = { config: null, endpoints: null, onSignedOut: () => {} };

export async function api(method, path, body) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (method !== "GET") {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body ?? {});
  }
  let response;
  try {
    response = await fetch(`/_ccf/api/${path}`, init);
  } catch {
    throw new ApiFailure(0, "", "The proxy does not answer. Is Claude Code Fallback still running?");
  }
  const data = await response.json().catch(() => ({}));
  if (response.status === 401) state.onSignedOut();
  if (!response.ok) {
    const error = data.error || {};
    throw new ApiFailure(response.status, error.field || "", error.message || `HTTP ${response.status}`);
  }
  return data;
}

export const enc = encodeURIComponent;

export async function loadConfig() {
  state.config = await api("GET", "config");
  return state.config;
}

export async function loadEndpoints() {
  state.endpoints = await api("GET", "endpoints");
  return state.endpoints;
}

// A write answers with the new settings; keep them.
export async function write(method, path, body) {
  const data = await api(method, path, body);
  if (data.config) state.config = data;
  return data;
}
