// The conversation's lines: who wrote them, attachments as links, buttons as labels, and the
// edit and delete tools on one's own messages (a supervisor's on any operator's).

import { h, when } from "./dom.js";

const AUTHORS = { client: "Client", bot: "Bot", operator: "Operator", system: "System" };

export function messageList(pane, chat) {
  const list = h("ol", { class: "messages", "aria-label": "Messages", tabindex: "0" });
  for (const m of chat.messages) list.append(messageItem(pane, chat, m));
  return list;
}

function messageItem(pane, chat, m) {
  const item = h("li", { class: `msg from-${m.author}${m.deleted ? " deleted" : ""}`, dataset: { id: m.message_id } },
    h("span", { class: "who" }, AUTHORS[m.author] || m.author),
    h("time", { dateTime: m.at }, when(m.at)),
    h("p", { class: "text" }, m.deleted ? "(deleted)" : m.text),
    m.edited_at && !m.deleted ? h("span", { class: "small" }, "edited") : null);
  for (const a of m.attachments || []) {
    // Only web addresses become links; the file stays with the channel (opened in a new tab).
    const safe = /^https?:\/\//i.test(a.url);
    const size = a.size ? ` (${Math.ceil(a.size / 1024)} KB)` : "";
    item.append(h("a", { class: "attachment", href: safe ? a.url : undefined, rel: "noopener noreferrer", target: "_blank",
      "aria-label": `Attachment ${a.name || a.url}${size}` }, `📎 ${a.name || a.url}${size}`));
  }
  if (m.buttons && m.buttons.length) {
    item.append(h("div", { class: "buttons", role: "group", "aria-label": "Buttons offered to the client" },
      m.buttons.map((b) => h("span", { class: "chip", title: `sends "${b.value}"` }, b.text))));
  }
  if (m.button_value) item.append(h("span", { class: "small pressed" }, `pressed: ${m.button_value}`));
  if (mayChange(pane, chat, m)) {
    item.append(tools(pane, chat, m));
    if (pane.editing === m.message_id) item.append(editForm(pane, chat, m));
  }
  return item;
}

function mayChange(pane, chat, m) {
  if (m.author !== "operator" || m.deleted || chat.status === "closed") return false;
  const own = pane.ctx.me && String(m.author_id) === pane.ctx.me;
  return Boolean(own || pane.ctx.supervises);
}

function tools(pane, chat, m) {
  const settings = pane.ctx.settings;
  const bar = h("span", { class: "tools" });
  const path = `/v1/chats/${chat.id}/messages/${m.message_id}`;
  if (!settings.forbid_message_edits) {
    bar.append(h("button", { type: "button", class: "link", "aria-label": "Edit message",
      "aria-expanded": String(pane.editing === m.message_id), onclick: () => {
        pane.editing = pane.editing === m.message_id ? null : m.message_id;
        pane.wantFocus = pane.editing ? `edit-${m.message_id}` : null;
        pane.render();
      } }, "edit"));
  }
  if (!settings.forbid_message_deletes) {
    bar.append(h("button", { type: "button", class: "link", "aria-label": "Delete message", onclick: () =>
      pane.act(() => pane.api.del(path), "Deleted.") }, "delete"));
  }
  return bar;
}

function editForm(pane, chat, m) {
  const box = h("textarea", { name: `edit-${m.message_id}`, "aria-label": "Edited text", rows: "2" }, m.text);
  return h("form", { class: "edit", onsubmit: (e) => {
    e.preventDefault();
    const text = box.value.trim();
    if (!text) return;
    pane.act(async () => {
      await pane.api.patch(`/v1/chats/${chat.id}/messages/${m.message_id}`, { text });
      pane.editing = null;
      delete box.dataset.edited;
    }, "Edited.");
  } }, box, h("button", { class: "primary" }, "Save"),
  h("button", { type: "button", onclick: () => { pane.editing = null; pane.render(); } }, "Cancel"));
}
