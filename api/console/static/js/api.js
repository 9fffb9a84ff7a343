// The API client: the token from sessionStorage, problem+json errors, read-your-writes.

const TOKEN_KEY = "switchboard.token";
const OPERATOR_KEY = "switchboard.operator";
const READ_ATTEMPTS = 10;

export class ApiError extends Error {
  constructor(status, problem, retryAfter = null) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.retryAfter = retryAfter; // seconds, from Retry-After (429)
    this.code = problem.code || "http_" + status;
    this.title = problem.title;
    this.detail = problem.detail;
  }
}

export class Api {
  constructor() {
    this.position = 0; // the highest X-Position our commands reached
    this.onUnauthorized = () => {};
  }

  get token() { return sessionStorage.getItem(TOKEN_KEY); }
  set token(value) {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  }

  // The operator record a sign-in answered with (tokens made otherwise have none).
  get signedInOperator() {
    const raw = sessionStorage.getItem(OPERATOR_KEY);
    return raw ? JSON.parse(raw) : null;
  }

  async request(method, path, options = {}) {
    // A read model still catching up with min_position answers 504: ask again, a few times.
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.send(method, path, options);
      } catch (error) {
        if (!(method === "GET" && error.status === 504 && attempt < READ_ATTEMPTS)) throw error;
      }
    }
  }

  async send(method, path, { query, body, quiet401 = false } = {}) {
    const url = new URL(path, location.origin);
    const params = { ...(query || {}) };
    // A read after our own write waits until the read model has it (min_position).
    if (method === "GET" && this.position && !("min_position" in params)) {
      params.min_position = this.position;
    }
    for (const [key, value] of Object.entries(params)) {
      if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
    }
    const headers = { Accept: "application/json" };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const position = Number(response.headers.get("X-Position"));
    if (position > this.position) this.position = position;
    if (response.status === 204) return null;
    const text = await response.text();
    const data = text ? safeJson(text) : null;
    if (!response.ok) {
      const wait = Number(response.headers.get("Retry-After"));
      const error = new ApiError(response.status, data || {}, wait > 0 ? wait : null);
      if (response.status === 401 && !quiet401) this.onUnauthorized(error);
      throw error;
    }
    return data;
  }

  get(path, query) { return this.request("GET", path, { query }); }
  post(path, body = {}) { return this.request("POST", path, { body }); }
  patch(path, body) { return this.request("PATCH", path, { body }); }
  put(path, body) { return this.request("PUT", path, { body }); }
  del(path) { return this.request("DELETE", path); }

  // Every page of a list, up to `max` items.
  async all(path, query = {}, max = 2000) {
    const items = [];
    let cursor = null;
    do {
      const page = await this.get(path, { ...query, limit: 500, cursor });
      items.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor && items.length < max);
    return items;
  }

  async signIn(email, password) {
    const answer = await this.request("POST", "/v1/sessions", {
      body: { email, password },
      quiet401: true,
    });
    this.token = answer.token;
    sessionStorage.setItem(OPERATOR_KEY, JSON.stringify(answer.operator || null));
    return answer;
  }

  async signOut() {
    try {
      await this.request("DELETE", "/v1/sessions/current", { quiet401: true });
    } catch (error) {
      // A token that is not a session (made by an admin) has nothing to end.
      if (![401, 404, 405].includes(error.status)) throw error;
    } finally {
      this.token = null;
      sessionStorage.removeItem(OPERATOR_KEY);
    }
  }

  // Who the token is: its role, and the operator record for a staff member's token.
  async whoami() {
    const me = await this.get("/v1/me");
    return { role: me.role, operator: me.operator };
  }
}

function safeJson(text) {
  try { return JSON.parse(text); } catch { return { detail: text }; }
}
