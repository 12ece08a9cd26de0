// Activity: per-endpoint counters and the most recent requests, newest first.
import { api } from "./api.js";
import { $, ago, h } from "./dom.js";

export async function refreshActivity() {
  const data = await api("GET", "activity?limit=300");
  renderCounters(data.counters);
  renderRows(data.items);
}

function sumWhere(byStatus, first) {
  return Object.entries(byStatus).filter(([s]) => s.startsWith(first)).reduce((n, [, v]) => n + v, 0);
}

function renderCounters(counters) {
  const cards = Object.entries(counters).map(([name, c]) => {
    const failovers = Object.values(c.failovers).reduce((a, b) => a + b, 0);
    const ok = sumWhere(c.by_status, "2");
    return h("div", { class: "counter", "data-endpoint": name },
      h("div", { class: "hint", text: name === "none" ? "no endpoint answered" : name }),
      h("div", { class: "big", text: String(c.requests) }),
      h("div", { class: "hint", text: `answered: ${ok} ok, ${c.requests - ok} errors · ${failovers} failed over` }));
  });
  $("#counters").replaceChildren(...cards);
}

function renderRows(items) {
  $("#activity-empty").hidden = items.length > 0;
  $("#activity-wrap").hidden = items.length === 0;
  const rows = items.map((item) => h("tr", {},
    h("td", { text: ago(item.time) }),
    h("td", { text: item.mapped_model ? `${item.model} → ${item.mapped_model}` : item.model || "—" }),
    h("td", { text: item.endpoint || "—" }),
    h("td", { class: `num status-${String(item.status)[0]}`, text: String(item.status) }),
    h("td", { class: "num", text: `${Math.round(item.latency_ms)} ms` }),
    h("td", { class: "attempts", text: item.attempts })));
  $("#activity-table tbody").replaceChildren(...rows);
}
