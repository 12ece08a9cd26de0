// Usage: today / 7 / 30 days from the usage ledger; charts, grouped sums, the request log.
import { api, enc } from "./api.js";
import { $, $$, h, toast } from "./dom.js";

const KEY_TITLES = { endpoint: "Endpoint", model: "Model", day: "Day", session: "Session" };
const PALETTE = ["#b8572f", "#2f6fdb", "#1f8a4c", "#8e44ad", "#b26a00", "#16a085", "#c0392b", "#7f8c8d"];
const PAGE = 50;
const view = { days: 1, by: "endpoint", summary: null, pages: [], next: null, charts: [] };

const count = (n) => Number(n || 0).toLocaleString();
const compact = (n) => new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 }).format(n || 0);
const endpointLabel = (name) => (name === "none" ? "no endpoint" : name);

export function money(cost, unpriced = 0) {
  if (cost === null || cost === undefined) return "unknown";
  const digits = cost !== 0 && Math.abs(cost) < 0.01 ? 4 : 2;
  return `$${cost.toFixed(digits)}${unpriced ? "+" : ""}`;
}

export function initUsage() {
  for (const button of $$("#usage-span button")) {
    button.addEventListener("click", () => { view.days = Number(button.dataset.days); showUsage(); });
  }
  for (const button of $$("#usage-by button")) {
    button.addEventListener("click", () => { view.by = button.dataset.by; renderGroup(); });
  }
  $("#usage-refresh").addEventListener("click", () => showUsage());
  $("#log-filters").addEventListener("submit", (event) => { event.preventDefault(); firstPage(); });
  $("#log-older").addEventListener("click", () => olderPage());
  $("#log-newer").addEventListener("click", () => newerPage());
  window.addEventListener("resize", () => { if (view.summary && !$("#view-usage").hidden) renderCharts(); });
}

export async function showUsage() {
  pressed("#usage-span", "days", String(view.days));
  try {
    view.summary = await api("GET", `usage/summary?days=${view.days}`);
    renderStatus(view.summary);
    renderCards(view.summary.totals);
    renderCharts();
    await renderGroup();
    fillEndpointFilter(view.summary.by_endpoint);
    await firstPage();
  } catch (error) {
    toast(error.message);
  }
}

function pressed(group, key, value) {
  for (const button of $$(`${group} button`)) {
    button.setAttribute("aria-pressed", String(button.dataset[key] === value));
  }
}

function renderStatus(data) {
  const warning = $("#usage-warning");
  const problem = data.problem || (data.warning ? `Requests are not being recorded: ${data.warning}.` : "");
  warning.textContent = problem;
  warning.hidden = !problem;
  const dropped = data.dropped ? ` ${count(data.dropped)} requests could not be recorded since the app started.` : "";
  $("#usage-prices").textContent =
    `Costs are estimates from list prices of ${data.prices_as_of || "unknown date"} or the endpoint's own price;` +
    ` “unknown” means a model without a price (set one in the endpoint's editor).${dropped}`;
}

function renderCards(t) {
  const cards = [
    ["Requests", count(t.requests), `${count(t.requests - t.ok)} failed`],
    ["Cost", money(t.cost, t.unpriced), t.unpriced ? `${count(t.unpriced)} without a price` : "estimated"],
    ["Rescued", count(t.rescued), "answered by a fallback"],
    ["Failovers", count(t.failovers), "attempts that moved on"],
    ["Tokens", `${compact(t.input + t.cache_read + t.cache_write)} / ${compact(t.output)}`,
      `in (${compact(t.cache_read)} from cache) / out`],
  ];
  $("#usage-cards").replaceChildren(...cards.map(([label, big, hint]) => h("div", { class: "counter", "data-card": label.toLowerCase() },
    h("div", { class: "hint", text: label }),
    h("div", { class: "big", text: big }),
    h("div", { class: "hint", text: hint }))));
}

// ------------------------------------------------------------------ charts

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

// Endpoints by their requests, most first (the bottom of each stack), "none" last.
export function chartData(series) {
  const days = [...new Set(series.map((row) => row.day))].sort();
  const totals = new Map();
  for (const row of series) totals.set(row.endpoint, (totals.get(row.endpoint) || 0) + row.requests);
  const rank = (name) => (name === "none" ? -1 : totals.get(name));
  const endpoints = [...totals.keys()].sort((a, b) => rank(b) - rank(a) || a.localeCompare(b));
  const at = new Map(series.map((row) => [`${row.day} ${row.endpoint}`, row]));
  const xs = days.map((day) => Date.parse(`${day}T12:00:00`) / 1000);
  const pick = (field) => endpoints.map((name) => days.map((day) => at.get(`${day} ${name}`)?.[field] ?? 0));
  return { xs, endpoints, cost: pick("cost"), requests: pick("requests") };
}

function renderCharts() {
  for (const chart of view.charts) chart.destroy();
  view.charts = [];
  if (typeof window.uPlot !== "function") return;
  const data = chartData(view.summary.series);
  const priced = { ...data, endpoints: data.endpoints.filter((name) => name !== "none") };
  view.charts.push(makeChart($("#chart-cost"), priced, data.cost.slice(0, priced.endpoints.length), (v) => money(v)));
  view.charts.push(makeChart($("#chart-requests"), data, data.requests, (v) => count(v)));
}

// Each day's bars stacked: endpoint i's bar reaches the sum of endpoints 0..i, and the
// taller sums are drawn first so the shorter ones show in front of them.
function makeChart(target, data, values, format) {
  target.replaceChildren();
  const width = Math.max(240, target.clientWidth || target.parentElement.clientWidth - 16);
  const axis = { stroke: cssVar("--muted"), grid: { stroke: cssVar("--line"), width: 1 }, ticks: { stroke: cssVar("--line"), width: 1 } };
  const bars = window.uPlot.paths.bars({ size: [0.7, 48], gap: 1 });
  const sums = cumulative(values);
  const order = data.endpoints.map((_, i) => i).reverse();
  const series = order.map((i) => ({
    label: endpointLabel(data.endpoints[i]), stroke: PALETTE[i % PALETTE.length], fill: PALETTE[i % PALETTE.length],
    width: 0, paths: bars, points: { show: false },
    value: (_, v, _s, idx) => (idx == null ? "—" : format(values[i][idx])),
  }));
  const day = (ts) => new Date(ts * 1000).toLocaleDateString(undefined, { month: "short", day: "numeric" });
  const options = {
    width, height: 180,
    series: [{}, ...series],
    axes: [{ ...axis, values: (_, ticks) => ticks.map(day) }, { ...axis, size: 60, values: (_, ticks) => ticks.map(format) }],
    scales: { x: { time: true, range: (_, lo, hi) => [lo - 43200, hi + 36000] }, y: { range: (_, lo, hi) => [0, Math.max(hi, 1e-9) * 1.1] } },
    cursor: { points: { show: false } },
    legend: { show: data.endpoints.length > 0, live: false },
  };
  return new window.uPlot(options, [data.xs, ...order.map((i) => sums[i])], target);
}

export function cumulative(values) {
  const out = [];
  values.forEach((row, i) => out.push(row.map((v, d) => v + (i ? out[i - 1][d] : 0))));
  return out;
}

// ------------------------------------------------------------------ grouped table

async function renderGroup() {
  pressed("#usage-by", "by", view.by);
  $("#h-usage-by").textContent = `By ${view.by}`;
  $("#usage-key").textContent = KEY_TITLES[view.by];
  let items = view.summary ? view.summary[`by_${view.by}`] : [];
  if (view.by === "session") items = (await api("GET", `usage/sessions?days=${view.days}`)).items;
  if (view.by === "day") items = [...items].sort((a, b) => b.key.localeCompare(a.key));
  const rows = items.map((row) => h("tr", {},
    h("td", { class: "key", text: view.by === "endpoint" ? endpointLabel(row.key) : row.key, title: row.key }),
    ...[row.requests, row.failovers, row.rescued, row.input, row.output, row.cache_read, row.cache_write]
      .map((n) => h("td", { class: "num", text: count(n) })),
    h("td", { class: "num", text: money(row.cost, row.unpriced) })));
  if (!rows.length) rows.push(h("tr", {}, h("td", { colspan: "9", class: "hint", text: "No requests in this time." })));
  $("#usage-table tbody").replaceChildren(...rows);
}

// ------------------------------------------------------------------ request log

function fillEndpointFilter(byEndpoint) {
  const select = $("#log-endpoint");
  const chosen = select.value;
  const names = byEndpoint.map((row) => row.key).filter((name) => name !== "none");
  select.replaceChildren(h("option", { value: "", text: "Any" }), ...names.map((name) => h("option", { value: name, text: name })));
  if (names.includes(chosen)) select.value = chosen;
}

export function filterQuery() {
  const seconds = (value) => (value ? String(Math.floor(new Date(value).getTime() / 1000)) : "");
  const fields = {
    endpoint: $("#log-endpoint").value, status: $("#log-status").value,
    model: $("#log-model").value.trim(), session: $("#log-session").value.trim(),
    since: seconds($("#log-since").value), until: seconds($("#log-until").value),
  };
  return Object.entries(fields).filter(([, v]) => v).map(([k, v]) => `${k}=${enc(v)}`).join("&");
}

async function firstPage() {
  view.pages = [];
  $("#log-csv").href = `api/usage/requests.csv?${filterQuery()}`;
  await loadPage(null);
}

async function olderPage() {
  if (view.next !== null) await loadPage(view.next);
}

async function newerPage() {
  view.pages.pop();
  const before = view.pages.pop() ?? null;
  await loadPage(before);
}

async function loadPage(before) {
  const query = [filterQuery(), `limit=${PAGE}`, before ? `before=${before}` : ""].filter(Boolean).join("&");
  try {
    const data = await api("GET", `usage/requests?${query}`);
    view.pages.push(before);
    view.next = data.next_before;
    renderLog(data.items);
  } catch (error) {
    toast(error.message);
  }
  $("#log-older").disabled = view.next === null;
  $("#log-newer").disabled = view.pages.length <= 1;
}

const WHEN = { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" };
const when = (seconds) => new Date(seconds * 1000).toLocaleString(undefined, WHEN);
const ms = (v) => (v === null || v === undefined ? "—" : count(Math.round(v)));

function renderLog(items) {
  $("#log-empty").hidden = items.length > 0;
  const rows = items.map((item) => h("tr", { class: item.rescued ? "rescued" : "" },
    h("td", { text: when(item.time), title: `${new Date(item.time * 1000).toLocaleString()}${item.session ? ` · session ${item.session}` : ""}` }),
    h("td", { class: "model", text: item.served && item.served !== item.model ? `${item.model} → ${item.served}` : item.model || "—" }),
    h("td", { text: item.endpoint || "—" }),
    h("td", { class: `status-${String(item.status)[0]}`, text: item.rescued ? `${item.status} rescued` : String(item.status) }),
    h("td", { class: "num", text: `${ms(item.latency_ms)} / ${ms(item.ttft_ms)} ms` }),
    h("td", { class: "num", text: `${count(item.input + item.cache_read + item.cache_write)} / ${count(item.output)}` }),
    h("td", { class: "num", text: money(item.cost) }),
    h("td", { class: "attempts", text: item.attempts })));
  $("#log-table tbody").replaceChildren(...rows);
}
