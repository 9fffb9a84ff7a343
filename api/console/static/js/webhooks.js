// Admin → Webhooks: register a receiver (its signing secret shown this once, with a copy
// button), change, enable or disable, delete; each one's delivery log and replays.

import { errorText, field, h, notice, replaceChildren, select, table, when } from "./dom.js";

// The Event types, as the server documents them (the fallback: those of this version).
const TYPES = ["chat.queued", "chat.assigned", "chat.intercepted", "chat.reassigned", "chat.overdue",
  "chat.muted", "chat.unmuted", "chat.closed", "chat.rated", "message.created", "message.edited",
  "message.deleted"];
const DELIVERY_STATES = [["", "all"], ["pending", "pending"], ["delivered", "delivered"], ["failed", "failed"]];

async function eventTypes() {
  try {
    const doc = await (await fetch("/openapi.json")).json();
    const events = doc.components.schemas.WebhookIn.properties.events;
    const list = (events.anyOf || [events]).find((s) => s.type === "array");
    if (list && list.items.enum) return list.items.enum;
  } catch { /* the list above */ }
  return TYPES;
}

export class WebhooksSection {
  constructor(api) {
    this.api = api;
    this.types = TYPES;
    this.listBox = h("div", { class: "webhook-list" });
    this.formBox = h("div");
    this.secretBox = h("div", { class: "secret", role: "status" });
    this.detailBox = h("div", { class: "webhook-detail" });
    this.el = h("section", { class: "webhooks", "aria-label": "Webhooks" },
      h("h2", {}, "Webhooks"), this.listBox, this.formBox, this.secretBox, this.detailBox);
  }

  async shown() {
    replaceChildren(this.secretBox); // a secret is shown once: not again on a later visit
    replaceChildren(this.detailBox);
    this.types = await eventTypes();
    this.renderForm();
    await this.renderList();
  }

  async act(box, fn, done) {
    try {
      const result = await fn();
      if (done) notice(box, done, "ok");
      return result ?? true;
    } catch (error) {
      notice(box, errorText(error));
      return undefined;
    }
  }

  async renderList() {
    let items;
    try {
      items = await this.api.all("/v1/webhooks");
    } catch (error) {
      replaceChildren(this.listBox, h("p", { class: "small" }, errorText(error)));
      return;
    }
    if (!items.length) {
      replaceChildren(this.listBox, h("p", { class: "small" }, "No webhooks yet."));
      return;
    }
    replaceChildren(this.listBox, table(["URL", "Events", "Bot", "Description", "State", "Made", ""],
      items.map((w) => [h("code", {}, w.url), w.events.length ? w.events.join(", ") : "all",
        w.bot || "every bot", w.description || "", w.active ? "enabled" : "disabled",
        when(w.created_at), this.actions(w)]), "webhooks-table"));
  }

  actions(w) {
    const button = (text, label, fn) =>
      h("button", { class: "link", "aria-label": `${label} ${w.url}`, onclick: fn }, text);
    return h("span", { class: "row-actions" },
      button("deliveries", "Deliveries of", () => this.showDeliveries(w)), " ",
      button("change", "Change", () => this.renderForm(w)), " ",
      button(w.active ? "disable" : "enable", w.active ? "Disable" : "Enable", () => this.change(w, { active: !w.active },
        `${w.url} ${w.active ? "disabled" : "enabled"}.`)), " ",
      button("delete", "Delete", () => this.askDelete(w)));
  }

  async change(w, body, done) {
    const saved = await this.act(this.listBox, () => this.api.patch(`/v1/webhooks/${w.id}`, body));
    if (!saved) return;
    await this.renderList();
    notice(this.listBox, done, "ok");
  }

  askDelete(w) {
    const box = h("div", { class: "confirm", role: "group", "aria-label": "Confirm deletion" },
      `Delete the webhook to ${w.url}? Its deliveries stop.`, " ",
      h("button", { class: "primary", onclick: async () => {
        if (!await this.act(this.listBox, () => this.api.del(`/v1/webhooks/${w.id}`))) return;
        replaceChildren(this.detailBox);
        await this.renderList();
        notice(this.listBox, `Webhook to ${w.url} deleted.`, "ok");
      } }, "Yes, delete"), " ",
      h("button", { onclick: () => replaceChildren(this.detailBox) }, "Cancel"));
    replaceChildren(this.detailBox, box);
    box.querySelector("button").focus();
  }

  // The form registers a new webhook, or changes `w` (its secret stays as it was).
  renderForm(w = null) {
    const url = h("input", { type: "url", name: "url", required: true, value: w ? w.url : "", placeholder: "https://…" });
    const description = h("input", { name: "description", value: w ? w.description || "" : "" });
    const bot = h("input", { name: "bot", placeholder: "every bot", disabled: Boolean(w) });
    const chosen = new Set(w ? w.events : []);
    const boxes = this.types.map((t) => h("label", { class: "check" },
      h("input", { type: "checkbox", value: t, checked: chosen.has(t) }), t));
    const form = h("form", { class: "inline webhook-form", "aria-label": w ? "Change webhook" : "Register a webhook",
      onsubmit: async (e) => {
        e.preventDefault();
        const events = boxes.map((l) => l.firstChild).filter((c) => c.checked).map((c) => c.value);
        const body = { url: url.value.trim(), events, description: description.value };
        if (w) {
          const saved = await this.act(form, () => this.api.patch(`/v1/webhooks/${w.id}`, body));
          if (!saved) return;
          this.renderForm();
          await this.renderList();
          notice(this.listBox, `Webhook to ${saved.url} changed.`, "ok");
          return;
        }
        if (bot.value.trim()) body.bot = bot.value.trim();
        if (!body.description) delete body.description;
        const made = await this.act(form, () => this.api.post("/v1/webhooks", body));
        if (!made) return;
        this.renderForm(); // a fresh form, without the last attempt's notice
        this.showSecret(made);
        await this.renderList();
      } },
    field("Receiver URL", url), field("Description", description),
    w ? null : field("Only this bot's chats (token name)", bot),
    h("fieldset", {}, h("legend", {}, "Event types (none: every type)"), boxes),
    h("button", { class: "primary" }, w ? "Save changes" : "Register webhook"),
    w ? h("button", { type: "button", onclick: () => this.renderForm() }, "Cancel") : null);
    replaceChildren(this.formBox, h("h3", {}, w ? `Change the webhook to ${w.url}` : "Register a webhook"), form);
    if (w) url.focus();
  }

  // The secret: kept nowhere, shown until the next webhook is registered or the page goes.
  showSecret(made) {
    const code = h("code", { class: "webhook-secret" }, made.secret);
    const copy = h("button", { type: "button", onclick: async () => {
      try {
        await navigator.clipboard.writeText(made.secret);
      } catch {
        const range = document.createRange();
        range.selectNodeContents(code);
        getSelection().removeAllRanges();
        getSelection().addRange(range);
        document.execCommand("copy");
      }
      copy.textContent = "Copied";
    } }, "Copy secret");
    replaceChildren(this.secretBox,
      `Signing secret of the webhook to ${made.url}: shown this once, keep it with the receiver. `,
      code, " ", copy);
  }

  async showDeliveries(w) {
    const status = select("status", DELIVERY_STATES, "");
    const rows = h("div");
    const more = h("button", { type: "button", hidden: true }, "More");
    let cursor = null;
    let shown = [];
    const load = async (next) => {
      try {
        const page = await this.api.get(`/v1/webhooks/${w.id}/deliveries`, { status: status.value, cursor: next, limit: 50 });
        shown = next ? [...shown, ...page.items] : page.items;
        cursor = page.next_cursor;
        more.hidden = !cursor;
        replaceChildren(rows, shown.length ? table(
          ["Event", "Type", "Position", "Status", "Attempts", "Last answer", "Last error", "Next attempt", "Delivered"],
          shown.map((d) => [h("code", {}, d.event_id), d.type, d.position, d.status, d.attempts,
            d.last_status_code ?? "", d.last_error || "", when(d.next_attempt_at), when(d.delivered_at)]),
          "deliveries") : h("p", { class: "small" }, "No deliveries."));
      } catch (error) {
        replaceChildren(rows, h("p", { class: "small" }, errorText(error)));
      }
    };
    more.addEventListener("click", () => load(cursor));
    status.addEventListener("change", () => load(null));
    const from = h("input", { type: "number", name: "from_position", min: "0", required: true });
    const replay = h("form", { class: "inline replay", "aria-label": "Replay", onsubmit: async (e) => {
      e.preventDefault();
      const position = Number(from.value);
      await this.act(replay, () => this.api.post(`/v1/webhooks/${w.id}/replay`, { from_position: position }),
        `Every matching Event from position ${position} on is being sent again.`);
    } }, field("Replay from position", from), h("button", {}, "Replay"));
    replaceChildren(this.detailBox, h("h3", {}, `Deliveries to ${w.url}`),
      h("div", { class: "inline filters" }, field("Status", status),
        h("button", { type: "button", onclick: () => load(null) }, "Refresh")),
      rows, more, replay);
    await load(null);
  }
}
