// Quick replies in the reply box: typing "/" and a shortcut lists the caller's quick replies
// (GET /v1/quick-replies?q=), filtered as they type; arrows and Enter, or a click, choose one.
// The box then shows its text as the client will read it; sent unchanged, it goes as
// {"quick_reply_id"} and the server fills in the placeholders.

import { h } from "./dom.js";

const TRIGGER = /^\/(\S*)$/;

// The text as the server fills it in ({client_name}, {operator_first_name}; {{ and }} escape).
export function filledIn(text, values) {
  return text.replace(/\{\{|\}\}|\{(client_name|operator_first_name)\}/g,
    (match, name) => (match === "{{" ? "{" : match === "}}" ? "}" : values[name] || ""));
}

export class QuickReplyPicker {
  constructor(api) {
    this.api = api;
    this.asked = 0;
  }

  // Wire the picker to a reply box; `onPick(reply)` gets the chosen quick reply.
  attach(textarea, onPick) {
    this.textarea = textarea;
    this.onPick = onPick;
    this.items = [];
    this.active = -1;
    this.list = h("ul", { class: "quick-replies", id: "quick-replies", role: "listbox", "aria-label": "Quick replies", hidden: true,
      // A click chooses without taking the focus from the reply box.
      onmousedown: (e) => e.preventDefault() });
    textarea.setAttribute("aria-autocomplete", "list");
    textarea.setAttribute("aria-controls", this.list.id);
    textarea.addEventListener("input", () => this.update());
    textarea.addEventListener("keydown", (e) => this.keys(e));
    textarea.addEventListener("blur", () => this.close());
    return this.list;
  }

  get open() { return !this.list.hidden; }

  // What the box holds now: "/word" lists the replies matching the word.
  async update() {
    const match = TRIGGER.exec(this.textarea.value);
    if (!match) return this.close();
    const word = match[1].toLowerCase();
    const asked = (this.asked += 1);
    let items;
    try {
      items = (await this.api.get("/v1/quick-replies", { q: word || undefined })).items;
    } catch (error) {
      if (asked === this.asked) this.show([], `Quick replies are unavailable: ${error.message}`);
      return;
    }
    if (asked !== this.asked || !TRIGGER.test(this.textarea.value)) return;
    // Shortcuts starting with the word first, then those only mentioning it.
    const rank = (r) => (r.shortcut.toLowerCase().startsWith(word) ? 0 : 1);
    items.sort((a, b) => rank(a) - rank(b) || a.shortcut.localeCompare(b.shortcut));
    this.show(items, word ? `No quick reply matches "/${word}".` : "You have no quick replies.");
  }

  show(items, emptyText) {
    this.items = items;
    this.active = items.length ? 0 : -1;
    this.list.replaceChildren(...(items.length ? items.map((reply, i) => h("li", {
      role: "option", id: `quick-reply-${i}`, class: "quick-reply", dataset: { id: reply.id },
      "aria-label": `/${reply.shortcut}: ${reply.title || reply.text}`,
      onclick: () => this.pick(i),
    }, h("strong", {}, `/${reply.shortcut}`), reply.title ? ` ${reply.title}` : "",
    h("span", { class: "small preview" }, reply.text))) : [h("li", { class: "small empty", role: "presentation" }, emptyText)]));
    this.list.hidden = false;
    this.highlight();
  }

  highlight() {
    [...this.list.querySelectorAll("[role=option]")].forEach((el, i) => {
      el.setAttribute("aria-selected", String(i === this.active));
      if (i === this.active) el.scrollIntoView({ block: "nearest" });
    });
    if (this.active >= 0) this.textarea.setAttribute("aria-activedescendant", `quick-reply-${this.active}`);
    else this.textarea.removeAttribute("aria-activedescendant");
  }

  keys(event) {
    if (!this.open) return;
    const n = this.items.length;
    if ((event.key === "ArrowDown" || event.key === "ArrowUp") && n) {
      event.preventDefault();
      this.active = (this.active + (event.key === "ArrowDown" ? 1 : -1) + n) % n;
      this.highlight();
    } else if (event.key === "Enter" && !event.ctrlKey && !event.metaKey && !event.shiftKey) {
      if (this.active < 0) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      this.pick(this.active);
    } else if (event.key === "Escape") {
      event.preventDefault();
      this.close();
    }
  }

  pick(i) {
    const reply = this.items[i];
    this.close();
    if (reply) this.onPick(reply);
  }

  close() {
    this.asked += 1; // an answer still on its way is no longer wanted
    if (!this.list || this.list.hidden) return;
    this.list.hidden = true;
    this.items = [];
    this.active = -1;
    this.textarea.removeAttribute("aria-activedescendant");
  }
}
