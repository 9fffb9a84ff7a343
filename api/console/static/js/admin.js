// Admin: company settings, groups, operators (a new one's token shown once), tokens, webhooks.

import { errorText, field, h, notice, operatorName, replaceChildren, select, table, when } from "./dom.js";
import { WebhooksSection } from "./webhooks.js";

const ROLES = ["operator", "supervisor", "admin", "bot", "analyst", "auditor"].map((r) => [r, r]);
const STAFF_ROLES = ["operator", "supervisor", "admin"].map((r) => [r, r]);

export class AdminScreen {
  constructor(api, session) {
    this.api = api;
    this.session = session;
    this.settingsBox = h("div");
    this.groupsBox = h("div");
    this.operatorsBox = h("div");
    this.tokensBox = h("div");
    this.webhooks = new WebhooksSection(api);
    this.el = h("section", { class: "admin", "aria-label": "Admin" },
      h("h2", {}, "Company settings"), this.settingsBox,
      h("h2", {}, "Groups"), this.groupsBox,
      h("h2", {}, "Operators"), this.operatorsBox,
      h("h2", {}, "Tokens"), this.tokensBox,
      this.webhooks.el);
  }

  shown() {
    this.renderSettings();
    this.renderGroups();
    this.renderOperators();
    this.renderTokens();
    this.webhooks.shown();
  }

  async act(box, fn, done) {
    try {
      const result = await fn();
      if (done) notice(box, typeof done === "function" ? done(result) : done, "ok");
      return result;
    } catch (error) {
      notice(box, errorText(error));
      return undefined;
    }
  }

  async renderSettings() {
    const settings = await this.act(this.settingsBox, () => this.api.get("/v1/settings"));
    if (!settings) return;
    const inputs = {};
    const fields = Object.entries(settings).filter(([, v]) => typeof v !== "object" || v === null)
      .map(([name, value]) => {
        const label = name.replaceAll("_", " ");
        let input;
        if (typeof value === "boolean") {
          input = h("input", { type: "checkbox", name, checked: value });
        } else if (typeof value === "number" || value === null) {
          input = h("input", { type: "number", name, min: "1", value: value ?? "", placeholder: "off" });
        } else {
          input = h("input", { name, value });
        }
        inputs[name] = [input, value];
        return field(label, input);
      });
    const form = h("form", { class: "settings-form", onsubmit: (e) => {
      e.preventDefault();
      const body = {};
      for (const [name, [input, was]] of Object.entries(inputs)) {
        const now = input.type === "checkbox" ? input.checked
          : input.type === "number" ? (input.value === "" ? null : Number(input.value)) : input.value;
        if (now !== was) body[name] = now;
      }
      this.act(form, async () => {
        const saved = await this.api.put("/v1/settings", body);
        Object.assign(this.session.settings, saved);
      }, "Settings saved.");
    } }, fields, h("button", { class: "primary" }, "Save settings"));
    replaceChildren(this.settingsBox, form);
  }

  async renderGroups() {
    const page = await this.act(this.groupsBox, () => this.api.get("/v1/groups"));
    if (!page) return;
    this.session.groups.clear();
    page.items.forEach((g) => this.session.groups.set(g.id, g));
    const name = h("input", { name: "name", required: true });
    const first = h("input", { type: "number", name: "sl_first_response_s", min: "1", placeholder: "default" });
    const next = h("input", { type: "number", name: "sl_next_response_s", min: "1", placeholder: "default" });
    const routing = select("routing", [["auto", "auto"], ["manual", "manual"]], "auto");
    const form = h("form", { class: "inline create-group", onsubmit: (e) => {
      e.preventDefault();
      const body = { name: name.value, routing: routing.value };
      if (first.value) body.sl_first_response_s = Number(first.value);
      if (next.value) body.sl_next_response_s = Number(next.value);
      this.act(form, () => this.api.post("/v1/groups", body)).then(async (g) => {
        if (!g) return;
        await this.renderGroups();
        await this.renderOperators(); // the new group among the operators' groups
      });
    } }, field("Group name", name), field("SL first response (s)", first),
    field("SL next response (s)", next), field("Routing", routing), h("button", {}, "Create group"));
    replaceChildren(this.groupsBox, table(["Name", "SL first", "SL next", "Routing", ""], page.items.map((g) => [
      g.name, `${g.sl_first_response_s} s`, `${g.sl_next_response_s} s`, g.routing,
      h("button", { class: "link", "aria-label": `Delete group ${g.name}`, onclick: () =>
        this.act(this.groupsBox, () => this.api.del(`/v1/groups/${g.id}`)).then(() => this.renderGroups()) }, "delete"),
    ])), form);
  }

  async renderOperators() {
    // Deactivated operators too, to be reactivated; the shell's list (for the other
    // screens) is loaded again alongside.
    const everyone = await this.act(this.operatorsBox, () => Promise.all([
      this.api.all("/v1/operators", { include_inactive: true }), this.session.loadOperators()]));
    const listed = everyone ? everyone[0] : [];
    const groups = this.session.groups;
    const inputs = {
      first_name: h("input", { name: "first_name", required: true }),
      last_name: h("input", { name: "last_name", required: true }),
      email: h("input", { type: "email", name: "email", required: true }),
      role: select("role", STAFF_ROLES, "operator"),
      max_chats: h("input", { type: "number", name: "max_chats", min: "0", value: "300" }),
    };
    const groupBoxes = [...groups.values()].map((g) =>
      h("label", { class: "check" }, h("input", { type: "checkbox", value: g.id }), g.name));
    const shown = h("div", { class: "secret", role: "status" });
    const form = h("form", { class: "inline create-operator", onsubmit: (e) => {
      e.preventDefault();
      const body = Object.fromEntries(Object.entries(inputs).map(([k, el]) => [k, el.value]));
      body.max_chats = Number(body.max_chats);
      body.group_ids = groupBoxes.map((l) => l.firstChild).filter((c) => c.checked).map((c) => c.value);
      this.act(form, () => this.api.post("/v1/operators", body)).then((op) => {
        if (!op) return;
        this.renderOperators().then(() => this.showInvitation(op, op.invite_code));
      });
    } }, field("First name", inputs.first_name), field("Last name", inputs.last_name),
    field("E-mail", inputs.email), field("Role", inputs.role), field("Max chats", inputs.max_chats),
    h("fieldset", {}, h("legend", {}, "Groups"), groupBoxes), h("button", {}, "Create operator"));
    replaceChildren(this.operatorsBox, table(["Name", "E-mail", "Role", "Status", "Load", "Groups", ""],
      listed.map((o) => [operatorName(o), o.email, o.role,
        o.active === false ? "deactivated" : o.status,
        `${o.load}/${o.max_chats}`, o.group_ids.map((id) => groups.get(id)?.name || "?").join(", "),
        this.operatorActions(o)])),
    form, shown);
  }

  // A new invitation link (also how a forgotten password is reset), deactivate, reactivate.
  operatorActions(o) {
    const name = operatorName(o);
    const button = (text, label, fn) => h("button", { class: "link", "aria-label": `${label} ${name}`, onclick: fn }, text);
    const lockout = (what, done) => this.act(this.operatorsBox,
      () => this.api.post(`/v1/operators/${o.id}/${what}`)).then((answer) => {
      if (!answer) return;
      this.renderOperators().then(() => notice(this.operatorsBox, `${name} ${done}.`, "ok"));
    });
    if (o.active === false) {
      return h("span", { class: "actions" },
        button("reactivate", "Reactivate", () => lockout("reactivate", "may sign in again")));
    }
    return h("span", { class: "actions" },
      button("new invitation link", "New invitation link for", () =>
        this.act(this.operatorsBox, () => this.api.post(`/v1/operators/${o.id}/invite`))
          .then((invite) => invite && this.showInvitation(o, invite.invite_code))),
      " ", button("deactivate", "Deactivate", () => lockout("deactivate", "is deactivated: signed out everywhere")));
  }

  showInvitation(op, code) {
    const secret = this.operatorsBox.querySelector(".secret");
    const link = `${location.origin}${location.pathname}#/invite/${encodeURIComponent(code)}`;
    replaceChildren(secret, op.token ? [`Token for ${operatorName(op)} (shown this once): `, h("code", {}, op.token), " · "] : null,
      `Invitation link for ${operatorName(op)} (single use, shown this once): `, h("code", { class: "invite-link" }, link));
  }

  async renderTokens() {
    const box = this.tokensBox;
    const role = select("role", ROLES, "bot");
    const name = h("input", { name: "name", required: true });
    const operator = select("operator_id", [["", "none"], ...[...this.session.operators.values()]
      .map((o) => [o.id, operatorName(o)])], "");
    const shown = h("div", { class: "secret", role: "status" });
    const form = h("form", { class: "inline create-token", onsubmit: (e) => {
      e.preventDefault();
      const body = { role: role.value, name: name.value };
      if (operator.value) body.operator_id = operator.value;
      this.act(form, () => this.api.post("/v1/tokens", body)).then((t) => {
        if (!t) return;
        replaceChildren(shown, `Token "${t.name}" (${t.role}), shown this once: `, h("code", {}, t.token));
        this.listTokens(list);
      });
    } }, field("Role", role), field("Name", name), field("Operator", operator), h("button", {}, "Create token"));
    const list = h("div");
    replaceChildren(box, list, form, shown);
    this.listTokens(list);
  }

  async listTokens(list) {
    try {
      const items = await this.api.all("/v1/tokens");
      const operators = this.session.operators;
      replaceChildren(list, table(["Name", "Kind", "Role", "Operator", "Made", "Last used", ""], items.map((t) => [
        t.name, t.kind === "session" ? "sign-in session" : "API token", t.role, operators.has(t.operator_id) ? operatorName(operators.get(t.operator_id)) : t.operator_id || "",
        when(t.created_at), when(t.last_used_at),
        h("button", { class: "link", "aria-label": `Revoke token ${t.name}`, onclick: () =>
          this.act(list, () => this.api.del(`/v1/tokens/${t.id}`)).then(() => this.listTokens(list)) }, "revoke"),
      ])));
    } catch (error) {
      replaceChildren(list, h("p", { class: "small" }, errorText(error)));
    }
  }
}
