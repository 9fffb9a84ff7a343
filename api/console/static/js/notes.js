// Private notes on a chat: the staff's own lines, kept apart from the conversation and never
// shown to the client (the bot's messages, Events and webhooks leave them out).

import { h, operatorName, when } from "./dom.js";

const MAX_NOTE = 5000;

// Who wrote a note (or a client note): a name where the console knows one.
export function authorName(ctx, authorId) {
  if (!authorId) return "a token";
  if (authorId === ctx.me) return "you";
  const operator = ctx.operators.get(authorId);
  return operator ? operatorName(operator) : "a colleague";
}

export function privateNotes(pane, chat) {
  const notes = chat.notes || [];
  const staff = Boolean(pane.ctx.me || pane.ctx.supervises);
  const text = h("textarea", { name: "note", rows: "2", maxlength: String(MAX_NOTE), "aria-label": "New private note",
    placeholder: "Only staff read this" });
  const form = h("form", { class: "note-form", onsubmit: (e) => {
    e.preventDefault();
    const value = text.value.trim();
    if (!value) return;
    pane.act(async () => {
      await pane.api.post(`/v1/chats/${chat.id}/notes`, { text: value });
      text.value = "";
      delete text.dataset.edited;
    }, "Note added.");
  } }, text, h("button", {}, "Add note"));
  return h("section", { class: "private-notes", "aria-label": "Private notes" },
    h("h3", {}, "Private notes ", h("span", { class: "private-mark" }, "staff only")),
    h("p", { class: "small" }, "The client never sees these."),
    notes.length
      ? h("ul", { class: "notes" }, notes.map((n) => h("li", { class: "note", dataset: { id: n.id } },
        h("p", { class: "text" }, n.text),
        h("span", { class: "small" }, `${authorName(pane.ctx, n.author_id)} · `, h("time", { dateTime: n.at }, when(n.at))))))
      : h("p", { class: "small empty-notes" }, "No notes on this chat."),
    staff ? form : null);
}
