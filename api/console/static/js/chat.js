// The chat pane: the transcript and the conversation, and what an operator does with a chat.

import { ClientPanel } from "./client.js";
import { errorText, field, h, notice, operatorName, replaceChildren, select, when } from "./dom.js";
import { messageList } from "./messages.js";
import { privateNotes } from "./notes.js";
import { QuickReplyPicker, filledIn } from "./quickreplies.js";

export class ChatPane {
  constructor(api, ctx) {
    this.api = api;
    this.ctx = ctx; // {me, role, supervises, settings, groups, operators, onClose}
    this.chat = null;
    this.position = 0;
    this.editing = null; // the id of the message being edited
    this.quick = null; // the quick reply chosen for the reply box: {chatId, id, shown}
    this.picker = new QuickReplyPicker(api);
    this.client = new ClientPanel(this);
    // The notice stays put while the chat below it is drawn again.
    this.status = h("p", { class: "notice", role: "status", "aria-live": "polite", hidden: true });
    this.body = h("div", { class: "chat-body" }, h("p", { class: "empty" }, "Choose a chat."));
    this.el = h("section", { class: "chat-pane", "aria-label": "Chat" }, this.status, this.body);
    this.el.addEventListener("input", (e) => { if (e.target.name) e.target.dataset.edited = ""; });
  }

  async open(id) {
    if (id !== this.id) {
      this.editing = null;
      this.quick = null;
      this.handedOn = null;
      this.client.editing = false;
    }
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

  // The chat left the caller's view (reassigned to someone else, taken from the queue): what
  // the pane offers would be refused now. It says so instead of showing the chat stale.
  removed(id) {
    if (!id || id !== this.id) return;
    this.id = null;
    this.chat = null;
    this.editing = null;
    this.quick = null;
    replaceChildren(this.body, h("p", { class: "empty" }, "Choose a chat."),
      h("button", { class: "back-to-folders", onclick: () => this.close() }, "Back to the folders"));
    // Unless this pane moved it: then the stream only confirms it.
    if (this.handedOn === id) this.say("Reassigned.", "ok");
    else this.say("This chat was moved to another operator.", "info");
  }

  // The dashboard saw this chat change: read it again (unless the change was ours, seen).
  rowChanged(row) {
    if (row.id === this.id && row.position > this.position) this.reload();
  }

  async reload() {
    const id = this.id;
    if (!id) return;
    const asked = (this.asked = (this.asked || 0) + 1);
    try {
      const chat = await this.api.get(`/v1/chats/${id}`);
      // Only the latest read counts: an earlier one may answer last, with older state.
      if (id !== this.id || asked !== this.asked) return;
      this.chat = chat;
      this.position = Math.max(this.position, this.api.position);
      this.render();
    } catch (error) {
      if (id === this.id) this.say(errorText(error));
    }
  }

  async act(fn, done) {
    const id = this.id;
    try {
      await fn();
      if (id === this.id) await this.reload(); // else it left the view meanwhile
      if (done) this.say(done, "ok");
      else if (id === this.id) this.status.hidden = true;
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
    if (!chat) return;
    const kept = this.keepEdits(chat.id);
    const closed = chat.status === "closed";
    const list = messageList(this, chat);
    const atBottom = !this.list || this.list.scrollTop + this.list.clientHeight >= this.list.scrollHeight - 20;
    this.list = list;
    replaceChildren(this.body,
      this.header(chat),
      h("div", { class: "chat-columns" },
        h("div", { class: "chat-main" },
          closed ? null : this.actions(chat),
          list,
          closed ? this.closedNote(chat) : this.replyForm(chat)),
        h("aside", { class: "chat-side", "aria-label": "Notes and client" },
          privateNotes(this, chat), this.client.render(chat))));
    if (atBottom) list.scrollTop = list.scrollHeight;
    kept();
    // A focus asked for (opening, intercepting, a form opened) is given once the pane shows it.
    const reply = this.el.querySelector("textarea[name=reply]");
    const wanted = this.wantFocus;
    if (wanted === "first" || (wanted === "reply" && reply && !reply.disabled)) {
      this.wantFocus = null;
      this.focusFirst();
    } else if (wanted && wanted !== "reply") {
      const el = this.el.querySelector(`[name="${wanted}"]`);
      this.wantFocus = null;
      if (el) el.focus();
    }
    if (reply && document.activeElement === reply && reply.value.startsWith("/")) this.picker.update();
  }

  closedNote(chat) {
    const reason = chat.close_reason ? ` (${chat.close_reason})` : "";
    return h("p", { class: "closed-note" }, `Closed ${when(chat.closed_at)}${reason}`);
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
    // The card, as staff keep it, else the client as the bot sent them.
    const client = { ...(chat.client || {}), ...(chat.client_card || {}) };
    const name = client.name || client.phone || `Client ${client.external_id || client.id || ""}`;
    const group = this.ctx.groups.get(chat.group_id);
    const operator = this.ctx.operators.get(chat.operator_id);
    return h("header", { class: "chat-head" },
      h("button", { class: "back", "aria-label": "Back to the folders", onclick: () => this.close() }, "←"),
      h("div", {},
        h("h2", { tabindex: "-1" }, name),
        h("p", { class: "small" },
          [chat.status, group && `group ${group.name}`, operator && `with ${operatorName(operator)}`,
            chat.muted && "muted", client.channel, client.phone].filter(Boolean).join(" · ")),
        client.blocked ? h("span", { class: "blocked-mark" }, "client blocked") : null));
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
    if (chat.status === "active" && (mine || this.ctx.supervises)) {
      // A system message asks the client, with buttons yes and no; "no" closes the chat.
      bar.append(h("button", { type: "button", class: "ask-resolved", onclick: () => this.act(
        () => this.api.post(`/v1/chats/${chat.id}/ask-resolved`), "Asked whether anything is left.") },
      "Anything left?"));
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
    const comment = h("input", { name: "reassign-comment", maxlength: "5000", placeholder: "kept as a private note" });
    return h("form", { class: "inline reassign-form", onsubmit: (e) => {
      e.preventDefault();
      const body = {};
      if (toOperator.value) body.operator_id = toOperator.value;
      if (toGroup.value) body.group_id = toGroup.value;
      if (!body.operator_id && !body.group_id) body.group_id = chat.group_id || undefined;
      if (comment.value.trim()) body.comment = comment.value.trim();
      this.act(async () => {
        this.handedOn = chat.id;
        await this.api.post(`/v1/chats/${chat.id}/reassign`, body).catch((error) => {
          this.handedOn = null;
          throw error;
        });
        delete comment.dataset.edited;
      }, "Reassigned.");
    } }, this.ctx.operators.size ? field("Reassign to operator", toOperator) : null,
    field("Reassign to group", toGroup), field("Reassign comment", comment), h("button", {}, "Reassign"));
  }

  replyForm(chat) {
    const text = h("textarea", { name: "reply", rows: "3", "aria-label": "Reply",
      placeholder: "Reply… (/ for quick replies, Ctrl+Enter sends)" });
    const hint = h("p", { class: "small quick-hint", id: "quick-hint", "aria-live": "polite" });
    const chosen = () => (this.quick && this.quick.chatId === chat.id && text.value === this.quick.shown ? this.quick : null);
    const showHint = () => {
      const quick = chosen();
      hint.hidden = !quick;
      hint.textContent = quick ? `Quick reply /${quick.shortcut}: its placeholders are filled in as it is sent. Edit it to send your own text.` : "";
    };
    const form = h("form", { class: "reply", "aria-label": "Send a reply", onsubmit: (e) => {
      e.preventDefault();
      const value = text.value.trim();
      if (!value) return;
      const quick = chosen();
      this.act(async () => {
        const body = quick ? { quick_reply_id: quick.id } : { text: value };
        await this.api.post(`/v1/chats/${chat.id}/messages`, body);
        this.quick = null;
        text.value = "";
        delete text.dataset.edited;
      });
    } }, h("div", { class: "reply-box" }, text, this.picker.attach(text, async (reply) => {
      const shown = filledIn(reply.text, { client_name: chat.client?.name, operator_first_name: await this.firstName() });
      this.quick = { chatId: chat.id, id: reply.id, shortcut: reply.shortcut, shown };
      text.value = shown;
      text.dataset.edited = "";
      showHint();
    }), hint), h("button", { class: "primary" }, "Send"));
    text.addEventListener("input", showHint);
    text.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) form.requestSubmit();
    });
    if (chat.status !== "active" || !this.mayAct(chat)) {
      text.disabled = true;
      text.placeholder = "Intercept the chat to reply.";
    }
    queueMicrotask(showHint); // once an edit kept through a re-render is back in the box
    return form;
  }

  // The signed-in operator's first name, for a quick reply's preview.
  async firstName() {
    if (this.myFirstName === undefined) {
      const op = this.ctx.operators.get(this.ctx.me);
      try {
        this.myFirstName = op ? op.first_name : this.ctx.me ? (await this.api.get("/v1/me")).first_name : "";
      } catch {
        this.myFirstName = "";
      }
    }
    return this.myFirstName;
  }
}
