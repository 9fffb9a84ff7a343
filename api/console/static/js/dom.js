// Small DOM helpers shared by the screens: element building, times and durations.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      el.className = value;
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key in el && typeof value !== "string") {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? "" : value);
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function replaceChildren(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export function field(label, control) {
  // A labelled control: the label names it for assistive technology.
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), control);
}

export function select(name, options, value) {
  const el = h("select", { name });
  for (const [optValue, text] of options) {
    el.append(h("option", { value: optValue, selected: optValue === value }, text));
  }
  return el;
}

export function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const sameDay = d.toDateString() === new Date().toDateString();
  return sameDay
    ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : d.toLocaleString([], { dateStyle: "short", timeStyle: "short" });
}

export function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const hours = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return hours ? `${hours}:${mm}:${ss}` : `${mm}:${ss}`;
}

export function errorText(error) {
  if (error && error.code) return `${error.detail || error.title} (${error.code})`;
  return String(error && error.message ? error.message : error);
}

export function notice(container, text, kind = "error") {
  // One live region per screen: errors and confirmations are read out.
  let box = container.querySelector(":scope > .notice");
  if (!box) {
    box = h("p", { class: "notice", role: "status", "aria-live": "polite" });
    container.prepend(box);
  }
  box.className = `notice ${kind}`;
  box.textContent = text;
  return box;
}

export function operatorName(op) {
  return op ? `${op.first_name} ${op.last_name}`.trim() : "";
}

// A table of plain rows: a header row, then one row per array of cells.
export function table(head, rows, className = "") {
  return h("div", { class: "scroll" }, h("table", { class: `grid ${className}`.trim() },
    h("thead", {}, h("tr", {}, head.map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((c) => h("td", {}, c)))))));
}
