// The console's shell: sign-in, who is signed in, the navigation, the status switch, the
// absent screen, the heartbeat, and the live stream feeding the dashboard.

import { Api } from "./api.js";
import { AdminScreen } from "./admin.js";
import { BoardScreen } from "./board.js";
import { ChatPane } from "./chat.js";
import { Dashboard, acceptedTabs } from "./dashboard.js";
import { errorText, field, h, notice, operatorName, replaceChildren, select } from "./dom.js";
import { HistoryScreen } from "./history.js";
import { ReportsScreen } from "./reports.js";
import { Stream } from "./stream.js";

const STATUSES = [["working", "Working"], ["break", "Break"], ["leaving", "Leaving"], ["offline", "Offline"],
  ["absent", "Absent"]]; // absent: shown, never chosen (the engine's only)
// The screen is open: told to the engine this often (and more often than the operator's
// auto-logout, which counts from the last action or heartbeat).
const HEARTBEAT_MS = 15_000;
const api = new Api();
const root = document.getElementById("app");
let session = null; // {role, operator, supervises, settings, groups, operators, ...}

api.onUnauthorized = () => { api.token = null; signInScreen("Your session has ended. Sign in again."); };

function signInScreen(message) {
  if (session) session.stop();
  session = null;
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const button = h("button", { class: "primary" }, "Sign in");
  const form = h("form", { class: "signin", "aria-label": "Sign in", onsubmit: async (e) => {
    e.preventDefault();
    button.disabled = true;
    try {
      await api.signIn(email.value, password.value);
      start();
    } catch (error) {
      button.disabled = false;
      notice(form, signInError(error));
    }
  } }, h("h1", {}, "Switchboard"), field("E-mail", email), field("Password", password), button);
  replaceChildren(root, h("main", { class: "center" }, form, tokenForm()));
  if (message) notice(form, message);
  email.focus();
}

// A token instead of a password: the admin token the server was started with (the first
// sign-in of all), or one made on the Admin screen.
function tokenForm() {
  const token = h("input", { type: "password", name: "token", autocomplete: "off", required: true });
  const form = h("form", { class: "signin token-signin", "aria-label": "Sign in with a token", onsubmit: (e) => {
    e.preventDefault();
    api.token = token.value.trim();
    start();
  } }, field("Token", token), h("button", {}, "Use this token"));
  return h("details", { class: "token-signin" }, h("summary", {}, "Sign in with a token"), form);
}

function signInError(error) {
  if (error.code === "bad_credentials") return "Wrong e-mail or password.";
  if (error.code === "too_many_attempts") {
    const s = Math.max(1, Math.ceil(error.retryAfter || 60));
    const wait = s < 120 ? `${s} second${s === 1 ? "" : "s"}` : `${Math.ceil(s / 60)} minutes`;
    return `Too many failed attempts. Try again in ${wait}.`;
  }
  return errorText(error);
}

// An invitation link (#/invite/<code>): the new operator sets a password and is signed in.
function invitationScreen(code) {
  const password = h("input", { type: "password", name: "password", autocomplete: "new-password", required: true, minlength: "8" });
  const button = h("button", { class: "primary" }, "Set password and sign in");
  const form = h("form", { class: "signin", "aria-label": "Accept the invitation", onsubmit: async (e) => {
    e.preventDefault();
    button.disabled = true;
    try {
      api.token = null; // whoever was signed in in this tab, the link is for someone new
      const answer = await api.post(`/v1/invitations/${encodeURIComponent(code)}/accept`, { password: password.value });
      api.token = answer.token;
      // The code is spent: drop it from the address (and from the tab's history).
      history.replaceState(null, "", location.pathname);
      start();
    } catch (error) {
      button.disabled = false;
      notice(form, error.code === "invite_expired" ? "This invitation was used or has expired." : errorText(error));
    }
  } }, h("h1", {}, "Welcome to Switchboard"), field("Choose a password", password), button);
  replaceChildren(root, h("main", { class: "center" }, form));
  password.focus();
}

async function start() {
  const invite = location.hash.match(/^#\/invite\/([^/]+)$/);
  if (invite) return invitationScreen(decodeURIComponent(invite[1]));
  if (!api.token) return signInScreen();
  let who;
  try {
    who = await api.whoami();
  } catch (error) {
    return signInScreen(errorText(error));
  }
  session = new Session(who);
  await session.begin();
}

class Session {
  constructor(who) {
    this.role = who.role;
    this.operator = who.operator;
    this.me = who.operator ? who.operator.id : null;
    this.supervises = ["supervisor", "admin"].includes(this.role);
    this.staff = this.supervises || this.role === "operator";
    this.groups = new Map();
    this.operators = new Map();
    this.settings = {};
    this.screens = {};
  }

  async begin() {
    const loads = [];
    // Operators see the operator list where the company lets them reassign (to choose whom).
    if (this.staff) {
      loads.push(api.get("/v1/settings").then((s) => {
        this.settings = s;
        if (!this.supervises && s.operators_may_reassign) return this.loadOperators().catch(() => {});
      }));
    }
    if (this.staff || this.role === "analyst") {
      loads.push(api.get("/v1/groups").then((p) => p.items.forEach((g) => this.groups.set(g.id, g))));
    }
    if (this.supervises) loads.push(this.loadOperators());
    await Promise.all(loads);
    this.layout();
    if (this.staff) await this.startDashboard();
    window.addEventListener("hashchange", this.route);
    this.route();
    if (this.me) {
      const logout = this.operator.auto_logout_s * 1000;
      const every = logout ? Math.max(1000, Math.min(HEARTBEAT_MS, logout / 3)) : HEARTBEAT_MS;
      this.heartbeat = setInterval(() => this.beat(), every);
      this.beat();
    }
  }

  async loadOperators() {
    const items = await api.all("/v1/operators");
    // In place: the chat pane holds this map.
    this.operators.clear();
    for (const o of items) this.operators.set(o.id, o);
  }

  layout() {
    const links = [];
    if (this.staff) links.push(["dashboard", "Dashboard"]);
    if (this.supervises) links.push(["board", "Operators"]);
    links.push(["history", "History"]);
    if (this.supervises || this.role === "analyst") links.push(["reports", "Reports"]);
    if (this.role === "admin") links.push(["admin", "Admin"]);
    this.nav = h("nav", { "aria-label": "Screens" },
      links.map(([hash, text]) => h("a", { href: `#/${hash}`, dataset: { screen: hash } }, text)));
    this.liveState = h("span", { class: "live-state", role: "status", "aria-live": "polite" });
    const who = this.operator ? operatorName(this.operator) : this.role;
    this.statusBox = this.me ? this.statusSwitch() : null;
    const header = h("header", { class: "top" },
      h("strong", { class: "brand" }, "Switchboard"), this.nav,
      h("span", { class: "grow" }),
      this.liveState, this.statusBox,
      h("span", { class: "who" }, `${who} (${this.role})`),
      h("button", { onclick: () => this.signOut() }, "Sign out"));
    this.main = h("main", { id: "main" });
    this.absent = h("div", { class: "absent", hidden: true, role: "dialog", "aria-modal": "true", "aria-label": "You are absent" },
      h("div", {}, h("h2", {}, "You are marked absent"),
        h("p", {}, "No new chats come to you until you return."),
        h("button", { class: "primary", onclick: () => this.setStatus("working") }, "Return to active")));
    replaceChildren(root, header, this.main, this.absent);
    this.showStatus(this.operator && this.operator.status);
  }

  statusSwitch() {
    this.statusSelect = select("status", STATUSES, this.operator.status);
    this.statusSelect.setAttribute("aria-label", "My status");
    this.statusSelect.querySelector('option[value="absent"]').disabled = true;
    this.statusSelect.addEventListener("change", () => this.setStatus(this.statusSelect.value));
    return this.statusSelect;
  }

  async setStatus(status) {
    try {
      this.operator = await api.put(`/v1/operators/${this.me}/status`, { status });
      this.showStatus(this.operator.status);
    } catch (error) {
      this.showStatus(this.operator.status); // unchanged: the switch shows it again
      notice(this.main, errorText(error));
    }
  }

  // The status as the API reports it, absent included (behind the absent screen).
  showStatus(status) {
    if (!this.me) return;
    this.statusSelect.value = status;
    this.absent.hidden = status !== "absent";
    document.body.classList.toggle("is-absent", status === "absent");
    if (status === "absent") this.absent.querySelector("button").focus();
  }

  // The screen is open: tell the engine (when it listens), and learn whether we are absent.
  async beat() {
    try {
      await api.request("POST", "/v1/me/heartbeat"); // a 401 (revoked, ended) signs out
    } catch {
      return;
    }
    if (session !== this) return;
    try {
      this.operator = await api.get("/v1/me");
      this.showStatus(this.operator.status);
    } catch { /* shown on the next action */ }
  }

  async startDashboard() {
    const tabs = await acceptedTabs(this.supervises);
    this.pane = new ChatPane(api, {
      me: this.me, supervises: this.supervises, settings: this.settings,
      groups: this.groups, operators: this.operators,
      onClose: () => this.workspace.classList.remove("chat-open"),
    });
    this.dashboard = new Dashboard(api, {
      me: this.me, tabs,
      // A supervisor sees every queue; their New folder holds their own groups' ones.
      ownGroup: (id) => !this.supervises || Boolean(this.operator?.group_ids?.includes(id)),
      onOpen: (id) => { this.workspace.classList.add("chat-open"); this.pane.open(id); },
    });
    this.workspace = h("div", { class: "workspace" }, this.dashboard.el, this.pane.el);
    this.stream = new Stream(api, {
      ready: (position) => this.dashboard.load(position).catch((e) => notice(this.main, errorText(e))),
      chat: (row) => { this.dashboard.upsert(row); this.pane.rowChanged(row); this.screens.board?.chatChanged(); },
      removed: (id, position) => { this.dashboard.remove(id, position); this.pane.removed(id); },
      reset: () => this.dashboard.load(api.position),
      state: (state) => {
        this.liveState.textContent = state;
        this.liveState.dataset.state = state;
        // Refused: a token revoked or expired shows the sign-in (any 401 does).
        if (state === "offline") api.get("/v1/settings").catch(() => {});
      },
    });
    this.liveState.textContent = "connecting";
    this.stream.open();
    // Until the stream is ready, show what the read model has now.
    await this.dashboard.load().catch((e) => notice(this.main, errorText(e)));
  }

  route = () => {
    const name = (location.hash.replace(/^#\/?/, "") || (this.staff ? "dashboard" : "history")).split("/")[0];
    for (const link of this.nav.querySelectorAll("a")) {
      if (link.dataset.screen === name) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    let view;
    if (name === "dashboard" && this.staff) view = this.workspace;
    else if (name === "board" && this.supervises) view = this.screen("board", () => new BoardScreen(api, this)).el;
    else if (name === "history") view = this.screen("history", () => new HistoryScreen(api, this)).el;
    else if (name === "reports") view = this.screen("reports", () => new ReportsScreen(api, this)).el;
    else if (name === "admin" && this.role === "admin") view = this.screen("admin", () => new AdminScreen(api, this)).el;
    else view = h("p", {}, "Nothing here.");
    replaceChildren(this.main, view);
    this.screens[name]?.shown?.();
  };

  screen(name, make) {
    if (!this.screens[name]) this.screens[name] = make();
    return this.screens[name];
  }

  async signOut() {
    this.stop();
    await api.signOut().catch(() => {});
    session = null;
    signInScreen();
  }

  stop() {
    window.removeEventListener("hashchange", this.route);
    clearInterval(this.heartbeat);
    if (this.stream) this.stream.close();
    if (this.dashboard) this.dashboard.destroy();
  }
}

start();
