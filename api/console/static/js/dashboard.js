// The dashboard: folders with counts, cards kept by chat id and patched in place as the
// stream reports changes (no full re-render per event), wait timers ticking once a second.

import { duration, h, replaceChildren, when } from "./dom.js";

const TAB_NAMES = {
  new: "New", mine: "Mine", active: "Active", queue: "Queue", help: "Help", closed: "Closed",
  all: "All",
};
// The folders the console shows, in this order (the server's "active" tab is in Mine).
const ORDER = ["new", "mine", "queue", "help", "closed", "all"];
const CLOSED_LOADED = 200; // the closed folder shows the latest ones

// Which folder a row belongs to, as the server's tabs define them. ownGroup(id): whether a
// group is the caller's (an operator is sent only their own groups' queues).
function belongs(tab, row, me, ownGroup = () => true) {
  const open = row.status === "assigned" || row.status === "active";
  switch (tab) {
    case "new": return (row.status === "assigned" && row.operator_id === me)
      || (row.status === "queued" && Boolean(row.group_id) && ownGroup(row.group_id));
    case "mine": return open && row.operator_id === me;
    case "active": return row.status === "active" && row.operator_id === me;
    case "queue": return row.status === "queued";
    case "help": return row.status === "queued" && !row.group_id;
    case "closed": return row.status === "closed";
    default: return true;
  }
}

function sortKey(tab, row) {
  if (tab === "closed") return -Date.parse(row.closed_at || row.requested_at);
  if (tab === "all") return -Date.parse(row.requested_at);
  return Date.parse(row.requested_at);
}

// The tabs this server accepts, read from its OpenAPI document.
export async function acceptedTabs(supervises) {
  let tabs = ["mine", "queue", "closed", "all"];
  try {
    const doc = await (await fetch("/openapi.json")).json();
    const params = doc.paths["/v1/dashboard"].get.parameters;
    const tab = params.find((p) => p.name === "tab");
    const schema = tab.schema.anyOf ? tab.schema.anyOf[0] : tab.schema;
    if (schema.enum) tabs = schema.enum;
  } catch { /* the defaults above */ }
  return ORDER.filter((t) => tabs.includes(t) && (t !== "all" || supervises));
}

export class Dashboard {
  constructor(api, { me, tabs, onOpen, ownGroup }) {
    this.api = api;
    this.me = me; // the operator's id, or null
    this.ownGroup = ownGroup; // a supervisor's own groups, for the New folder
    this.tabs = tabs;
    this.tab = tabs.includes("mine") && me ? "mine" : tabs.includes("queue") ? "queue" : tabs[0];
    this.onOpen = onOpen;
    this.rows = new Map();
    this.changes = []; // the stream's changes while a load is under way
    this.loading = 0;
    this.cards = new Map(); // id -> card element, for the folder on screen
    this.dirty = new Set();
    this.frame = 0;
    this.selected = null;
    this.el = this.render();
    this.timer = setInterval(() => this.tick(), 1000);
  }

  render() {
    this.tabButtons = new Map();
    this.counts = new Map();
    const tablist = h("div", { class: "tabs", role: "tablist", "aria-label": "Folders" });
    for (const tab of this.tabs) {
      const count = h("span", { class: "count" }, "0");
      const button = h("button", {
        role: "tab", id: `tab-${tab}`, "aria-controls": "cards", dataset: { tab },
        onclick: () => this.show(tab),
        onkeydown: (e) => this.tabKeys(e, tab),
      }, TAB_NAMES[tab], " ", count);
      this.tabButtons.set(tab, button);
      this.counts.set(tab, count);
      tablist.append(button);
    }
    this.list = h("ul", { class: "cards", id: "cards", role: "tabpanel", "aria-live": "off" });
    this.empty = h("p", { class: "empty" }, "No chats here.");
    return h("section", { class: "dashboard", "aria-label": "Dashboard" }, tablist, this.list, this.empty);
  }

  tabKeys(event, tab) {
    const i = this.tabs.indexOf(tab);
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    const next = this.tabs[(i + step + this.tabs.length) % this.tabs.length];
    this.show(next);
    this.tabButtons.get(next).focus();
  }

  // Everything again from the read model (at start, and after the stream's reset).
  async load(position) {
    const asked = (this.asked = (this.asked || 0) + 1);
    const since = this.changes.length; // what the stream brings from here on is newer
    this.loading += 1;
    let fresh;
    try {
      fresh = await this.read(position);
    } finally {
      this.loading -= 1;
    }
    if (asked !== this.asked) return; // a later load answers instead
    // Replay what the stream brought while this read was under way, unless the read is newer.
    for (const { id, row, position: at } of this.changes.slice(since)) {
      const loaded = fresh.get(id);
      if (loaded && loaded.position > at) continue;
      if (row) fresh.set(id, row);
      else fresh.delete(id);
    }
    if (!this.loading) this.changes = [];
    const before = this.rows;
    this.rows = fresh;
    if (!this.loaded) {
      this.loaded = true;
      this.show(this.tab);
      return;
    }
    // Again (a reconnect, a reset): patch what differs, so nothing jumps.
    for (const id of new Set([...before.keys(), ...fresh.keys()])) {
      if (before.get(id) !== fresh.get(id)) this.schedule(id);
    }
  }

  async read(position) {
    const query = position ? { min_position: position } : {};
    const fresh = new Map();
    // A supervisor's "all" holds every other folder's chats (the latest ones, open or not);
    // an operator's New, Active and Help hold nothing Mine and Queue do not: each read once.
    const covered = this.tabs.includes("mine") && this.tabs.includes("queue");
    const reads = this.tabs.includes("all") ? ["all"]
      : this.tabs.filter((t) => !(covered && ["new", "active", "help"].includes(t)));
    for (const tab of reads) {
      const items = tab === "closed"
        ? (await this.api.get("/v1/dashboard", { tab, limit: CLOSED_LOADED, ...query })).items
        : await this.api.all("/v1/dashboard", { tab, ...query });
      for (const row of items) fresh.set(row.id, row);
    }
    return fresh;
  }

  upsert(row) {
    const known = this.rows.get(row.id);
    if (this.loading) this.changes.push({ id: row.id, row, position: row.position });
    if (known && known.position > row.position) return;
    this.rows.set(row.id, row);
    this.schedule(row.id);
  }

  remove(id, position = Infinity) {
    if (this.loading) this.changes.push({ id, row: null, position });
    this.rows.delete(id);
    this.schedule(id);
  }

  row(id) { return this.rows.get(id); }

  schedule(id) {
    this.dirty.add(id);
    if (!this.frame) this.frame = requestAnimationFrame(() => this.flush());
  }

  // One pass per animation frame over the chats that changed.
  flush() {
    this.frame = 0;
    for (const id of this.dirty) {
      const row = this.rows.get(id);
      const card = this.cards.get(id);
      if (row && belongs(this.tab, row, this.me, this.ownGroup)) {
        if (card) this.patch(card, row);
        else this.insert(row);
      } else if (card) {
        card.remove();
        this.cards.delete(id);
      }
    }
    this.dirty.clear();
    this.updateCounts();
  }

  updateCounts() {
    const counts = Object.fromEntries(this.tabs.map((t) => [t, 0]));
    for (const row of this.rows.values()) {
      for (const tab of this.tabs) if (belongs(tab, row, this.me, this.ownGroup)) counts[tab] += 1;
    }
    for (const [tab, el] of this.counts) {
      const text = String(counts[tab]);
      if (el.textContent !== text) el.textContent = text;
    }
    this.empty.hidden = this.cards.size > 0;
  }

  show(tab) {
    this.tab = tab;
    for (const [name, button] of this.tabButtons) {
      button.setAttribute("aria-selected", String(name === tab));
      button.tabIndex = name === tab ? 0 : -1;
    }
    this.list.setAttribute("aria-labelledby", `tab-${tab}`);
    const rows = [...this.rows.values()].filter((r) => belongs(tab, r, this.me, this.ownGroup));
    rows.sort((a, b) => sortKey(tab, a) - sortKey(tab, b));
    this.cards.clear();
    replaceChildren(this.list, rows.map((row) => this.card(row)));
    this.updateCounts();
    this.tick();
  }

  insert(row) {
    const card = this.card(row);
    const key = card.sortKey;
    let before = null;
    for (const other of this.list.children) {
      if (other.sortKey > key) { before = other; break; }
    }
    this.list.insertBefore(card, before);
  }

  card(row) {
    const parts = {
      label: h("strong", { class: "client" }),
      topic: h("span", { class: "topic" }),
      requested: h("time", { class: "requested" }),
      timer: h("span", { class: "timer", role: "timer" }),
      overdue: h("span", { class: "overdue-mark", title: "Overdue" }, "overdue"),
      muted: h("span", { class: "muted-mark", title: "Muted" }, "muted"),
      status: h("span", { class: "status" }),
      last: h("p", { class: "last" }),
    };
    const open = h("button", { class: "card-open", onclick: () => this.select(row.id) },
      h("span", { class: "line" }, parts.label, parts.status, parts.timer),
      h("span", { class: "line small" }, parts.topic, parts.requested, parts.overdue, parts.muted),
      parts.last);
    const card = h("li", { class: "card", dataset: { id: row.id } }, open);
    card.parts = parts;
    card.open = open;
    this.cards.set(row.id, card);
    this.patch(card, row);
    card.sortKey = sortKey(this.tab, row);
    return card;
  }

  patch(card, row) {
    const p = card.parts;
    set(p.label, row.client_label);
    set(p.topic, [row.topic, row.subtopic].filter(Boolean).join(" / ") || "no topic");
    set(p.requested, `requested ${when(row.requested_at)}`);
    p.requested.dateTime = row.requested_at;
    set(p.status, row.status);
    p.overdue.hidden = !row.overdue;
    p.muted.hidden = !row.muted;
    const last = row.last_message;
    set(p.last, last ? `${last.author}: ${last.text}` : "");
    card.open.setAttribute("aria-label",
      `${row.client_label}, ${row.status}${row.topic ? ", " + row.topic : ""}`);
    card.classList.toggle("selected", row.id === this.selected);
    card.row = row;
    this.tickCard(card, Date.now());
  }

  select(id) {
    this.selected = id;
    for (const card of this.cards.values()) card.classList.toggle("selected", card.dataset.id === id);
    this.onOpen(id);
  }

  tick() {
    const now = Date.now();
    for (const card of this.cards.values()) this.tickCard(card, now);
  }

  tickCard(card, now) {
    const row = card.row;
    const timer = card.parts.timer;
    if (!row || !row.waiting_since || row.status === "closed") {
      set(timer, "");
      timer.classList.remove("late");
      return;
    }
    set(timer, duration((now - Date.parse(row.waiting_since)) / 1000));
    const late = Boolean(row.sl_due_at) && now > Date.parse(row.sl_due_at);
    if (timer.classList.contains("late") !== late) {
      timer.classList.toggle("late", late);
      timer.title = late ? "Past the service level" : "Waiting";
    }
  }

  destroy() {
    clearInterval(this.timer);
    cancelAnimationFrame(this.frame);
  }
}

function set(el, text) {
  if (el.textContent !== text) el.textContent = text;
}
