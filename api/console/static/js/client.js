// The client panel beside the chat: the client card (from the chat's "client_card"), editing
// it, the client's notes and tags, block and unblock, and the client's previous dialogs.

import { field, h, operatorName, when } from "./dom.js";
import { authorName } from "./notes.js";

const FIELDS = [
  ["name", "Name", "text"], ["username", "Username", "text"], ["phone", "Phone", "tel"],
  ["email", "E-mail", "email"], ["language", "Language", "text"], ["photo_url", "Photo URL", "url"],
];

export class ClientPanel {
  constructor(pane) {
    this.pane = pane; // the chat pane: its api, ctx (me, supervises, settings, operators), act()
    this.editing = false;
    this.blockRefused = false;
  }

  get staff() { return Boolean(this.pane.ctx.me || this.pane.ctx.supervises); }

  mayBlock() {
    const ctx = this.pane.ctx;
    return this.staff && !this.blockRefused && (ctx.supervises || ctx.settings.operators_may_block_clients);
  }

  render(chat) {
    const card = chat.client_card;
    const section = h("section", { class: "client-panel", "aria-label": "Client" }, h("h3", {}, "Client"));
    if (!card) {
      return append(section, details(chat.client || {}, chat.client || {}), this.previous(chat));
    }
    this.cardId = card.id;
    if (card.blocked) {
      section.append(h("p", { class: "blocked-banner", role: "status" }, h("strong", {}, "Blocked"),
        card.blocked_reason ? `: ${card.blocked_reason}` : " (no reason given)"));
    }
    append(section, details(card, chat.client || {}));
    if (this.staff) section.append(this.editing ? this.editForm(card) : h("button", { type: "button", class: "edit-card",
      onclick: () => { this.editing = true; this.pane.wantFocus = "client-name"; this.pane.render(); } }, "Edit card"));
    return append(section, this.tags(card), this.notes(card), this.mayBlock() ? this.blocking(card) : null,
      this.previous(chat));
  }

  path(suffix = "") { return `/v1/clients/${this.cardId}${suffix}`; }

  editForm(card) {
    const inputs = FIELDS.map(([name, label, type]) =>
      [name, label, h("input", { name: `client-${name}`, type, value: card[name] || "", autocomplete: "off" })]);
    return h("form", { class: "card-form", "aria-label": "Edit the client card", onsubmit: (e) => {
      e.preventDefault();
      const changes = {};
      for (const [name, , input] of inputs) {
        const value = input.value.trim() || null;
        if (value !== (card[name] || null)) changes[name] = value;
      }
      const done = () => { this.editing = false; for (const [, , input] of inputs) delete input.dataset.edited; };
      if (!Object.keys(changes).length) { done(); this.pane.render(); return; }
      this.pane.act(async () => { await this.pane.api.patch(this.path(), changes); done(); }, "Card saved.");
    } }, inputs.map(([, label, input]) => field(label, input)),
    h("div", { class: "row" }, h("button", { class: "primary" }, "Save card"),
      h("button", { type: "button", onclick: () => { this.editing = false; this.pane.render(); } }, "Cancel")));
  }

  tags(card) {
    const list = card.tags.length
      ? h("ul", { class: "tags", "aria-label": "Tags" }, card.tags.map((t) => h("li", { class: "chip" }, t)))
      : h("p", { class: "small" }, "No tags.");
    if (!this.staff) return h("div", { class: "client-tags" }, h("h4", {}, "Tags"), list);
    const input = h("input", { name: "client-tags", value: card.tags.join(", "), "aria-label": "Tags, separated by commas" });
    return h("div", { class: "client-tags" }, h("h4", {}, "Tags"), list,
      h("form", { class: "inline", onsubmit: (e) => {
        e.preventDefault();
        const tags = input.value.split(",").map((t) => t.trim()).filter(Boolean);
        this.pane.act(async () => { await this.pane.api.put(this.path("/tags"), { tags }); delete input.dataset.edited; }, "Tags saved.");
      } }, input, h("button", {}, "Save tags")));
  }

  notes(card) {
    const ctx = this.pane.ctx;
    const items = card.notes.map((n) => h("li", { class: "note", dataset: { id: n.id } },
      h("p", { class: "text" }, n.text),
      h("span", { class: "small" }, `${authorName(ctx, n.author_id)} · ${when(n.at)} `),
      this.staff ? h("button", { type: "button", class: "link", "aria-label": `Delete client note: ${n.text.slice(0, 40)}`,
        onclick: () => this.pane.act(() => this.pane.api.del(this.path(`/notes/${n.id}`)), "Client note deleted.") }, "delete") : null));
    const text = h("textarea", { name: "client-note", rows: "2", maxlength: "2000", "aria-label": "New client note" });
    const form = h("form", { class: "note-form", onsubmit: (e) => {
      e.preventDefault();
      const value = text.value.trim();
      if (!value) return;
      this.pane.act(async () => {
        await this.pane.api.post(this.path("/notes"), { text: value });
        text.value = "";
        delete text.dataset.edited;
      }, "Client note added.");
    } }, text, h("button", {}, "Add client note"));
    return h("div", { class: "client-notes" }, h("h4", {}, "Notes on the client"),
      items.length ? h("ul", { class: "notes" }, items) : h("p", { class: "small" }, "No notes."),
      this.staff ? form : null);
  }

  blocking(card) {
    if (card.blocked) {
      return h("div", { class: "client-block" }, h("button", { type: "button", onclick: () =>
        this.block(() => this.pane.api.post(this.path("/unblock")), "Client unblocked.") }, "Unblock client"));
    }
    const reason = h("input", { name: "block-reason", maxlength: "2000" });
    return h("form", { class: "client-block", onsubmit: (e) => {
      e.preventDefault();
      const body = reason.value.trim() ? { reason: reason.value.trim() } : {};
      this.block(async () => { await this.pane.api.post(this.path("/block"), body); delete reason.dataset.edited; },
        "Client blocked: their open chats are closed.");
    } }, field("Block reason", reason),
    h("p", { class: "small" }, "Blocking closes the client's open chats and refuses new ones."),
    h("button", { class: "danger" }, "Block client"));
  }

  // Block or unblock; refused (403 block_forbidden), the controls go and the pane says why.
  block(fn, done) {
    return this.pane.act(async () => {
      try {
        await fn();
      } catch (error) {
        if (error.code !== "block_forbidden") throw error;
        this.blockRefused = true;
        this.pane.render();
        throw Object.assign(new Error("Only supervisors may block or unblock clients in this company."), { code: null });
      }
    }, done);
  }

  previous(chat) {
    const items = chat.previous_chats || [];
    const ops = this.pane.ctx.operators;
    return h("div", { class: "previous" }, h("h4", {}, `Previous dialogs (${items.length})`),
      items.length ? h("ul", {}, items.map((p) => h("li", {},
        h("button", { type: "button", class: "link", "aria-label": `Open the dialog of ${when(p.requested_at)}`, onclick: () => this.pane.open(p.id) },
          [when(p.requested_at), p.topic || "no topic", p.status, ops.get(p.operator_id) && operatorName(ops.get(p.operator_id)),
            p.rating && `★${p.rating}`].filter(Boolean).join(" · "))))) : h("p", { class: "small" }, "None."));
  }
}

function details(card, bot) {
  const rows = [
    ["Name", card.name], ["Username", card.username], ["Phone", card.phone], ["E-mail", card.email],
    ["Language", card.language], ["Channel", card.channel ?? bot.channel], ["Client id", card.external_id ?? bot.id],
    ...Object.entries(card.custom || {}),
  ].filter(([, value]) => value);
  const photo = card.photo_url && /^https?:\/\//i.test(card.photo_url)
    // Loaded from nowhere but this server: the photo opens in a new tab instead.
    ? h("p", {}, h("a", { href: card.photo_url, target: "_blank", rel: "noopener noreferrer" }, "Photo (opens in a new tab)"))
    : null;
  return [h("dl", { class: "card-fields" }, rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, String(v))])), photo];
}

function append(el, ...children) {
  for (const child of children.flat()) if (child) el.append(child);
  return el;
}
