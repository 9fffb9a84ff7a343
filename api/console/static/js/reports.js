// Reports (analysts): the SLA report for a period and group, with a per-day chart of the share
// answered within SL and the CSAT distribution, both drawn here as inline SVG.

import { errorText, field, h, notice, replaceChildren, select } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const W = 640, H = 220, PAD = { left: 40, right: 10, top: 10, bottom: 40 };

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, value);
  for (const child of children) el.append(child instanceof Node ? child : String(child));
  return el;
}

function isoDate(d) { return d.toLocaleDateString("sv"); } // YYYY-MM-DD in local time

export function slaChart(buckets) {
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart sla-chart", role: "img",
    "aria-label": "Share of first and next responses within SL, per day" },
  s("title", {}, "Share answered within SL, per day"));
  const plotW = W - PAD.left - PAD.right, plotH = H - PAD.top - PAD.bottom;
  for (const pct of [0, 50, 100]) {
    const y = PAD.top + plotH * (1 - pct / 100);
    svg.append(s("line", { x1: PAD.left, x2: W - PAD.right, y1: y, y2: y, class: "gridline" }),
      s("text", { x: PAD.left - 6, y: y + 4, "text-anchor": "end", class: "axis" }, `${pct}%`));
  }
  const step = plotW / Math.max(1, buckets.length);
  const barW = Math.max(2, Math.min(24, step / 2.5));
  buckets.forEach((b, i) => {
    const x = PAD.left + i * step + step / 2;
    [["first", b.first_response, -barW], ["next", b.next_response, 0]].forEach(([kind, stats, dx]) => {
      if (stats.pct_within_sl === null || stats.pct_within_sl === undefined) return;
      const hgt = plotH * stats.pct_within_sl / 100;
      svg.append(s("rect", { x: x + dx, y: PAD.top + plotH - hgt, width: barW, height: hgt,
        class: `bar ${kind}`, "data-date": b.date },
      s("title", {}, `${b.date}: ${kind} response ${stats.pct_within_sl.toFixed(0)}% within SL (${stats.within_sl}/${stats.count})`)));
    });
    if (buckets.length <= 16 || i % Math.ceil(buckets.length / 16) === 0) {
      svg.append(s("text", { x, y: H - PAD.bottom + 16, "text-anchor": "middle", class: "axis" }, b.date.slice(5)));
    }
  });
  svg.append(s("rect", { x: PAD.left, y: H - 14, width: 10, height: 10, class: "bar first" }),
    s("text", { x: PAD.left + 14, y: H - 5, class: "axis" }, "first response"),
    s("rect", { x: PAD.left + 130, y: H - 14, width: 10, height: 10, class: "bar next" }),
    s("text", { x: PAD.left + 144, y: H - 5, class: "axis" }, "next response"));
  return svg;
}

export function csatChart(distribution) {
  const w = 320, rowH = 26;
  const max = Math.max(1, ...Object.values(distribution));
  const svg = s("svg", { viewBox: `0 0 ${w} ${rowH * 5 + 4}`, class: "chart csat-chart", role: "img",
    "aria-label": "CSAT distribution" }, s("title", {}, "Ratings 1 to 5"));
  ["5", "4", "3", "2", "1"].forEach((score, i) => {
    const n = distribution[score] || 0;
    const y = i * rowH + 2;
    svg.append(s("text", { x: 4, y: y + 17, class: "axis" }, `★ ${score}`),
      s("rect", { x: 40, y, width: Math.max(n ? 2 : 0, (w - 90) * n / max), height: rowH - 6,
        class: "bar csat", "data-score": score }),
      s("text", { x: w - 4, y: y + 17, "text-anchor": "end", class: "axis" }, String(n)));
  });
  return svg;
}

export class ReportsScreen {
  constructor(api, session) {
    this.api = api;
    const today = new Date();
    const weekAgo = new Date(today.getTime() - 6 * 86400_000);
    this.from = h("input", { type: "date", name: "from", value: isoDate(weekAgo) });
    this.to = h("input", { type: "date", name: "to", value: isoDate(today) });
    this.group = select("group_id", [["", "all groups"],
      ...[...session.groups.values()].map((g) => [g.id, g.name])], "");
    this.out = h("div", { class: "report" });
    this.el = h("section", { class: "reports", "aria-label": "Reports" }, h("h2", {}, "SLA report"),
      h("form", { class: "filters", onsubmit: (e) => { e.preventDefault(); this.run(); } },
        field("From", this.from), field("To (inclusive)", this.to), field("Group", this.group),
        h("div", { class: "field" }, h("button", { class: "primary" }, "Show"))),
      this.out);
  }

  shown() { if (!this.ran) this.run(); }

  async run() {
    this.ran = true;
    const asked = (this.asked = (this.asked || 0) + 1);
    try {
      const report = await this.api.get("/v1/reports/sla", {
        from: this.from.value, to: this.to.value, group_id: this.group.value, bucket: "day",
        tz: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC",
      });
      if (asked === this.asked) this.render(report); // only the latest question's answer
    } catch (error) {
      notice(this.el, errorText(error));
    }
  }

  render(r) {
    const pct = (x) => (x === null || x === undefined ? "–" : `${x.toFixed(1)}%`);
    const sec = (x) => (x === null || x === undefined ? "–" : `${Math.round(x)} s`);
    const stat = (name, st) => h("tr", {}, h("th", { scope: "row" }, name), h("td", {}, String(st.count)),
      h("td", {}, pct(st.pct_within_sl)), h("td", {}, sec(st.avg_s)), h("td", {}, sec(st.p50_s)),
      h("td", {}, sec(st.p90_s)), h("td", {}, sec(st.max_s)));
    replaceChildren(this.out,
      h("div", { class: "kpis" },
        kpi("Requested", r.chats.requested), kpi("Closed", r.chats.closed),
        kpi("Abandoned", r.chats.abandoned), kpi("First response within SL", pct(r.first_response.pct_within_sl)),
        kpi("CSAT", r.csat.avg === null ? "–" : r.csat.avg.toFixed(2)), kpi("Rated", r.csat.count)),
      h("figure", {}, slaChart(r.buckets), h("figcaption", {}, "Share answered within SL, per day")),
      h("figure", {}, csatChart(r.csat.distribution), h("figcaption", {}, "CSAT distribution")),
      h("div", { class: "scroll" }, h("table", { class: "grid" },
        h("thead", {}, h("tr", {}, ["", "Count", "Within SL", "Mean", "p50", "p90", "Max"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, stat("First response", r.first_response), stat("Next response", r.next_response)))));
  }
}

function kpi(label, value) {
  return h("div", { class: "kpi" }, h("span", { class: "small" }, label), h("strong", {}, String(value)));
}
