// Supervisors: the operators board (status, since when, load and max_chats, groups) and the
// queues of each group, from the live dashboard.

import { errorText, h, notice, operatorName, replaceChildren, when } from "./dom.js";

const REFRESH_MS = 5000;

export class BoardScreen {
  constructor(api, session) {
    this.api = api;
    this.session = session;
    this.operatorsBody = h("tbody");
    this.queues = h("div", { class: "queues" });
    this.el = h("section", { class: "board", "aria-label": "Operators and queues" },
      h("h2", {}, "Operators"),
      h("div", { class: "scroll" }, h("table", { class: "grid operators-board" },
        h("thead", {}, h("tr", {}, ["Operator", "Role", "Status", "Since", "Load", "Groups"]
          .map((t) => h("th", { scope: "col" }, t)))),
        this.operatorsBody)),
      h("h2", {}, "Queues"), this.queues);
  }

  shown() {
    this.refresh();
    clearInterval(this.timer);
    this.timer = setInterval(() => {
      if (this.el.isConnected) this.refresh();
      else clearInterval(this.timer);
    }, REFRESH_MS);
  }

  chatChanged() {
    if (!this.el.isConnected || this.pending) return;
    this.pending = setTimeout(() => { this.pending = null; this.refresh(); }, 300);
  }

  async refresh() {
    try {
      await this.session.loadOperators();
    } catch (error) {
      notice(this.el, errorText(error));
      return;
    }
    const groups = this.session.groups;
    const rows = [...this.session.operators.values()].sort((a, b) =>
      operatorName(a).localeCompare(operatorName(b)));
    replaceChildren(this.operatorsBody, rows.map((o) => h("tr", { dataset: { id: o.id } },
      h("th", { scope: "row" }, operatorName(o)),
      h("td", {}, o.role),
      h("td", {}, h("span", { class: `badge status-${o.status}` }, o.status)),
      h("td", {}, when(o.status_since)),
      h("td", { class: o.load >= o.max_chats ? "full" : "" }, `${o.load}/${o.max_chats}`),
      h("td", {}, o.group_ids.map((id) => groups.get(id)?.name || "?").join(", ")))));
    this.renderQueues();
  }

  renderQueues() {
    const dashboard = this.session.dashboard;
    const byGroup = new Map();
    for (const row of dashboard ? dashboard.rows.values() : []) {
      if (row.status !== "queued") continue;
      const key = row.group_id || "";
      if (!byGroup.has(key)) byGroup.set(key, []);
      byGroup.get(key).push(row);
    }
    const names = [...this.session.groups.values()].map((g) => [g.id, g.name]);
    names.push(["", "No group"]);
    replaceChildren(this.queues, names.map(([id, name]) => {
      const rows = (byGroup.get(id) || []).sort((a, b) => a.requested_at.localeCompare(b.requested_at));
      return h("div", { class: "queue", dataset: { group: id } },
        h("h3", {}, `${name} `, h("span", { class: "count" }, String(rows.length))),
        h("ul", {}, rows.map((row) => h("li", {}, h("button", {
          class: "link",
          onclick: () => { location.hash = "#/dashboard"; dashboard.show("queue"); dashboard.select(row.id); },
        }, `${row.client_label} · ${row.topic || "no topic"} · ${when(row.requested_at)}`)))));
    }));
  }
}
