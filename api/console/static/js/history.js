// History: every filter of GET /v1/history and full text, paged with next_cursor.

import { ChatPane } from "./chat.js";
import { errorText, field, h, notice, operatorName, replaceChildren, select, when } from "./dom.js";

const STATUSES = [["", "any"], ["queued", "queued"], ["assigned", "assigned"], ["active", "active"], ["closed", "closed"]];
const RATINGS = [["", "any"], ...[1, 2, 3, 4, 5].map((n) => [String(n), `★ ${n}`])];
const PAGE = 50;

// A date picked in the browser's time zone, as the API wants it: an instant with its zone.
export function startOfDay(value, plusDays = 0) {
  if (!value) return null;
  const d = new Date(`${value}T00:00:00`);
  d.setDate(d.getDate() + plusDays);
  return d.toISOString();
}

export class HistoryScreen {
  constructor(api, session) {
    this.api = api;
    this.session = session;
    const groups = [["", "any"], ...[...session.groups.values()].map((g) => [g.id, g.name])];
    const operators = [["", "anyone"], ...[...session.operators.values()].map((o) => [o.id, operatorName(o)])];
    this.inputs = {
      q: h("input", { type: "search", name: "q", placeholder: "words in the messages" }),
      from: h("input", { type: "date", name: "from" }),
      to: h("input", { type: "date", name: "to" }),
      topic: h("input", { name: "topic" }),
      subtopic: h("input", { name: "subtopic" }),
      operator_id: session.operators.size ? select("operator_id", operators, "") : h("input", { name: "operator_id", placeholder: "operator id" }),
      group_id: select("group_id", groups, ""),
      rating: select("rating", RATINGS, ""),
      phone: h("input", { name: "phone", type: "tel" }),
      channel: h("input", { name: "channel" }),
      status: select("status", STATUSES, ""),
    };
    const i = this.inputs;
    this.form = h("form", { class: "filters", "aria-label": "History filters", onsubmit: (e) => {
      e.preventDefault();
      this.search();
    } }, field("Full text", i.q), field("From", i.from), field("To (inclusive)", i.to),
    field("Topic", i.topic), field("Subtopic", i.subtopic), field("Operator", i.operator_id),
    field("Group", i.group_id), field("Rating", i.rating), field("Phone", i.phone),
    field("Channel", i.channel), field("Status", i.status),
    h("div", { class: "field" }, h("button", { class: "primary" }, "Search")));
    this.body = h("tbody");
    this.more = h("button", { hidden: true, onclick: () => this.page() }, "More");
    this.pane = new ChatPane(api, {
      me: session.me, supervises: session.supervises, settings: session.settings,
      groups: session.groups, operators: session.operators,
      onClose: () => this.el.classList.remove("chat-open"),
    });
    this.summary = h("p", { class: "small", role: "status" });
    this.el = h("section", { class: "history", "aria-label": "History" },
      h("div", { class: "history-main" }, h("h2", {}, "History"), this.form, this.summary,
        h("div", { class: "scroll" }, h("table", { class: "grid results" },
          h("thead", {}, h("tr", {}, ["Requested", "Client", "Topic", "Status", "Operator", "Rating", "Messages"]
            .map((t) => h("th", { scope: "col" }, t)))),
          this.body)), this.more),
      this.pane.el);
  }

  shown() { if (!this.searched) this.search(); }

  query() {
    const q = {};
    for (const [name, input] of Object.entries(this.inputs)) q[name] = input.value.trim();
    q.from = startOfDay(q.from);
    q.to = startOfDay(q.to, 1);
    return q;
  }

  async search() {
    this.searched = true;
    this.search_ = (this.search_ || 0) + 1;
    this.cursor = null;
    this.filters = this.query();
    replaceChildren(this.body);
    this.count = 0;
    await this.page();
  }

  async page() {
    const search = this.search_; // a page of an earlier search, answering late, is dropped
    this.more.disabled = true;
    try {
      const page = await this.api.get("/v1/history", { ...this.filters, limit: PAGE, cursor: this.cursor });
      if (search !== this.search_) return;
      this.cursor = page.next_cursor;
      for (const row of page.items) this.body.append(this.row(row));
      this.count += page.items.length;
      this.summary.textContent = `${this.count} chat${this.count === 1 ? "" : "s"}${this.cursor ? " so far" : ""}`;
      this.more.hidden = !this.cursor;
    } catch (error) {
      notice(this.el, errorText(error));
    } finally {
      this.more.disabled = false;
    }
  }

  row(row) {
    const client = row.client || {};
    const operator = this.session.operators.get(row.operator_id);
    const label = client.phone || client.name || `Client ${client.id || ""}`;
    return h("tr", { dataset: { id: row.id } },
      h("td", {}, when(row.requested_at)),
      h("th", { scope: "row" }, h("button", { class: "link", onclick: () => {
        this.el.classList.add("chat-open");
        this.pane.open(row.id);
      } }, label), row.headline ? h("div", { class: "small headline" }, row.headline) : null),
      h("td", {}, [row.topic, row.subtopic].filter(Boolean).join(" / ")),
      h("td", {}, row.status),
      h("td", {}, operator ? operatorName(operator) : row.operator_id ? "…" : ""),
      h("td", {}, row.rating ? `★ ${row.rating}` : ""),
      h("td", {}, String(row.message_count)));
  }
}
