// The chat pane: the transcript and the conversation, and what an operator does with a chat.

import { errorText, field, h, notice, operatorName, replaceChildren, select, when } from "./dom.js";

const AUTHORS = { client: "Client", bot: "Bot", operator: "Operator", system: "System" };

export class ChatPane {
  constructor(api, ctx) {
    this.api = api;
    this.ctx = ctx; // {me, role, supervises, settings, groups, operators, onClose}
    this.chat = null;
    this.position = 0;
    // The notice stays put while the chat below it is drawn again.
    this.status = h("p", { class: "notice", role: "status", "aria-live": "polite", hidden: true });
    this.body = h("div", { class: "chat-body" }, h("p", { class: "empty" }, "Choose a chat."));
    this.el = h("section", { class: "chat-pane", "aria-label": "Chat" }, this.status, this.body);
    this.el.addEventListener("input", (e) => { if (e.target.name) e.target.dataset.edited = ""; });
  }

  async open(id) {
    this.id = id;
    this.status.hidden = true;
    this.el.classList.add("open");
    this.wantFocus = "first";
    await this.reload();
  }

  // Where the keyboard goes in a chat: the reply, else intercepting it.
  focusFirst() {
    const reply = this.el.querySelector("textarea[name=reply]");
    if (reply && !reply.disabled) reply.focus();
    else (this.el.querySelector(".actions .primary") || this.el.querySelector("h2"))?.focus();
  }

  close() {
    this.id = null;
    this.chat = null;
    this.el.classList.remove("open");
    this.status.hidden = true;
    replaceChildren(this.body, h("p", { class: "empty" }, "Choose a chat."));
    this.ctx.onClose();
  }

  // The dashboard saw this chat change: read it again (unless the change was ours, seen).
  rowChanged(row) {
    if (row.id === this.id && row.position > this.position) this.reload();
  }

  async reload() {
    const id = this.id;
    const asked = (this.asked = (this.asked || 0) + 1);
    try {
      const chat = await this.api.get(`/v1/chats/${id}`);
      // Only the latest read counts: an earlier one may answer last, with older state.
      if (id !== this.id || asked !== this.asked) return;
      this.chat = chat;
      this.position = Math.max(this.position, this.api.position);
      this.render();
    } catch (error) {
      this.say(errorText(error));
    }
  }

  async act(fn, done) {
    try {
      await fn();
      await this.reload();
      if (done) this.say(done, "ok");
      else this.status.hidden = true;
    } catch (error) {
      this.say(errorText(error));
    }
  }

  say(text, kind = "error") {
    this.status.hidden = false;
    notice(this.el, text, kind);
  }

  render() {
    const chat = this.chat;
    const kept = this.keepEdits(chat.id);
    const list = this.messages(chat);
    const atBottom = !this.list || this.list.scrollTop + this.list.clientHeight >= this.list.scrollHeight - 20;
    this.list = list;
    replaceChildren(this.body,
      this.header(chat),
      chat.status === "closed" ? null : this.actions(chat),
      list,
      chat.status === "closed" ? h("p", { class: "closed-note" }, `Closed ${when(chat.closed_at)}`)
        : this.replyForm(chat),
      this.previous(chat));
    if (atBottom) list.scrollTop = list.scrollHeight;
    kept();
    // A focus asked for (opening, intercepting) is given once the pane shows the state for it.
    const reply = this.el.querySelector("textarea[name=reply]");
    if (this.wantFocus === "first" || (this.wantFocus === "reply" && reply && !reply.disabled)) {
      this.wantFocus = null;
      this.focusFirst();
    }
  }

  // What the operator was typing survives a re-render (a new message, a change elsewhere).
  keepEdits(chatId) {
    const same = this.renderedId === chatId;
    this.renderedId = chatId;
    const edits = same ? [...this.el.querySelectorAll("[name][data-edited]")]
      .map((el) => [el.name, el.value]) : [];
    const focused = same && document.activeElement && this.el.contains(document.activeElement)
      ? document.activeElement.name : null;
    return () => {
      for (const [name, value] of edits) {
        const el = this.el.querySelector(`[name="${name}"]`);
        if (el) { el.value = value; el.dataset.edited = ""; }
      }
      const el = focused && this.el.querySelector(`[name="${focused}"]`);
      if (el && !el.disabled) el.focus();
    };
  }

  header(chat) {
    const client = chat.client || {};
    const name = client.name || client.phone || `Client ${client.id || ""}`;
    const group = this.ctx.groups.get(chat.group_id);
    const operator = this.ctx.operators.get(chat.operator_id);
    return h("header", { class: "chat-head" },
      h("button", { class: "back", "aria-label": "Back to the folders", onclick: () => this.close() }, "←"),
      h("div", {},
        h("h2", { tabindex: "-1" }, name),
        h("p", { class: "small" },
          [chat.status, group && `group ${group.name}`, operator && `with ${operatorName(operator)}`,
            chat.muted && "muted", client.channel, client.phone].filter(Boolean).join(" · "))));
  }

  mayAct(chat) {
    return this.ctx.supervises || chat.operator_id === this.ctx.me || chat.status === "queued";
  }

  actions(chat) {
    const bar = h("div", { class: "actions" });
    const mine = chat.operator_id === this.ctx.me;
    if (this.ctx.me && (chat.status === "queued" || (chat.status === "assigned" && mine))) {
      bar.append(h("button", { class: "primary", onclick: () => this.act(
        () => { this.wantFocus = "reply"; return this.api.post(`/v1/chats/${chat.id}/intercept`); },
        "Intercepted.") }, "Intercept"));
    }
    if (!this.mayAct(chat)) return bar;
    if (chat.muted) {
      bar.append(h("button", { onclick: () => this.act(
        () => this.api.post(`/v1/chats/${chat.id}/unmute`), "Unmuted.") }, "Unmute"));
    } else {
      const minutes = h("input", { type: "number", name: "minutes", min: "1", max: "1440", value: "10" });
      bar.append(h("form", { class: "inline", onsubmit: (e) => {
        e.preventDefault();
        this.act(() => this.api.post(`/v1/chats/${chat.id}/mute`, { minutes: Number(minutes.value) }), "Muted.");
      } }, field("Mute for minutes", minutes), h("button", {}, "Mute")));
    }
    bar.append(this.topicForm(chat), this.closeForm(chat));
    if (this.ctx.supervises || this.ctx.settings.operators_may_reassign) bar.append(this.reassignForm(chat));
    return bar;
  }

  topicForm(chat) {
    const topic = h("input", { name: "topic", value: chat.topic || "", maxlength: "200" });
    const subtopic = h("input", { name: "subtopic", value: chat.subtopic || "", maxlength: "200" });
    return h("form", { class: "inline topic-form", onsubmit: (e) => {
      e.preventDefault();
      this.act(() => this.api.patch(`/v1/chats/${chat.id}`, {
        topic: topic.value.trim() || null, subtopic: subtopic.value.trim() || null }), "Topic saved.");
    } }, field("Topic", topic), field("Subtopic", subtopic), h("button", {}, "Save topic"));
  }

  closeForm(chat) {
    const needTopic = this.ctx.settings.require_topic_to_close && !chat.topic;
    const topic = h("input", { name: "close-topic", required: needTopic, maxlength: "200" });
    return h("form", { class: "inline close-form", onsubmit: (e) => {
      e.preventDefault();
      this.act(async () => {
        if (needTopic) await this.api.patch(`/v1/chats/${chat.id}`, { topic: topic.value.trim() });
        await this.api.post(`/v1/chats/${chat.id}/close`, {});
      }, "Closed.");
    } }, needTopic ? field("Topic (required to close)", topic) : null, h("button", {}, "Close chat"));
  }

  reassignForm(chat) {
    const operators = [["", "any operator"], ...[...this.ctx.operators.values()]
      .filter((o) => o.id !== chat.operator_id)
      .map((o) => [o.id, `${operatorName(o)} (${o.status}, ${o.load}/${o.max_chats})`])];
    const groups = [["", "same group"], ...[...this.ctx.groups.values()].map((g) => [g.id, g.name])];
    const toOperator = select("operator_id", operators, "");
    const toGroup = select("group_id", groups, "");
    return h("form", { class: "inline reassign-form", onsubmit: (e) => {
      e.preventDefault();
      const body = {};
      if (toOperator.value) body.operator_id = toOperator.value;
      if (toGroup.value) body.group_id = toGroup.value;
      this.act(() => this.api.post(`/v1/chats/${chat.id}/reassign`, body), "Reassigned.");
    } }, this.ctx.operators.size ? field("Reassign to operator", toOperator) : null,
    field("Reassign to group", toGroup), h("button", {}, "Reassign"));
  }

  messages(chat) {
    const list = h("ol", { class: "messages", "aria-label": "Messages", tabindex: "0" });
    for (const m of chat.messages) list.append(this.message(chat, m));
    return list;
  }

  message(chat, m) {
    const own = m.author === "operator" && this.ctx.me && String(m.author_id) === this.ctx.me;
    const item = h("li", { class: `msg from-${m.author}${m.deleted ? " deleted" : ""}`, dataset: { id: m.message_id } },
      h("span", { class: "who" }, AUTHORS[m.author] || m.author),
      h("time", { dateTime: m.at }, when(m.at)),
      h("p", { class: "text" }, m.deleted ? "(deleted)" : m.text),
      m.edited_at && !m.deleted ? h("span", { class: "small" }, "edited") : null);
    for (const a of m.attachments || []) {
      const safe = /^https?:\/\//i.test(a.url);
      item.append(h("a", { class: "attachment", href: safe ? a.url : undefined, rel: "noopener noreferrer", target: "_blank" },
        `📎 ${a.name || a.url}${a.size ? ` (${Math.ceil(a.size / 1024)} KB)` : ""}`));
    }
    if (m.buttons && m.buttons.length) {
      item.append(h("div", { class: "buttons", "aria-label": "Buttons offered" },
        m.buttons.map((b) => h("span", { class: "chip", title: b.value }, b.text))));
    }
    if (own && !m.deleted && chat.status !== "closed") item.append(this.ownTools(chat, m));
    return item;
  }

  ownTools(chat, m) {
    const settings = this.ctx.settings;
    const tools = h("span", { class: "tools" });
    const path = `/v1/chats/${chat.id}/messages/${m.message_id}`;
    if (!settings.forbid_message_edits) {
      tools.append(h("button", { class: "link", "aria-label": "Edit message", onclick: (e) => {
        const box = h("textarea", { "aria-label": "Edited text" }, m.text);
        const form = h("form", { class: "edit", onsubmit: (ev) => {
          ev.preventDefault();
          this.act(() => this.api.patch(path, { text: box.value }), "Edited.");
        } }, box, h("button", {}, "Save"));
        e.target.closest("li").append(form);
        box.focus();
      } }, "edit"));
    }
    const deletes = settings.forbid_message_deletes ?? settings.forbid_message_edits;
    if (!deletes) {
      tools.append(h("button", { class: "link", "aria-label": "Delete message", onclick: () =>
        this.act(() => this.api.del(path), "Deleted.") }, "delete"));
    }
    return tools;
  }

  replyForm(chat) {
    const text = h("textarea", { name: "reply", rows: "3", "aria-label": "Reply", placeholder: "Reply… (Ctrl+Enter sends)" });
    const form = h("form", { class: "reply", onsubmit: (e) => {
      e.preventDefault();
      const value = text.value.trim();
      if (!value) return;
      this.act(async () => {
        await this.api.post(`/v1/chats/${chat.id}/messages`, { text: value });
        text.value = "";
      });
    } }, text, h("button", { class: "primary" }, "Send"));
    text.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) form.requestSubmit();
    });
    if (chat.status !== "active" || !this.mayAct(chat)) {
      text.disabled = true;
      text.placeholder = "Intercept the chat to reply.";
    }
    return form;
  }

  previous(chat) {
    const items = chat.previous_chats || [];
    if (!items.length) return null;
    return h("details", { class: "previous" }, h("summary", {}, `Previous dialogs (${items.length})`),
      h("ul", {}, items.map((p) => h("li", {},
        h("button", { class: "link", onclick: () => this.open(p.id) },
          `${when(p.requested_at)} · ${p.topic || "no topic"} · ${p.status}${p.rating ? ` · ★${p.rating}` : ""}`)))));
  }
}
