// The endpoints list: order (drag or arrow keys), enable switch, live state, Test, pin and pause.
import { api, enc, loadEndpoints, state, write } from "./api.js";
import { $, h, toast } from "./dom.js";

const STATE_WORDS = { ok: "ready", cooling: "cooling down", auth_error: "key rejected", disabled: "disabled", no_key: "no key" };
const testResults = new Map();
let openEditor = () => {};
let showStatus = () => {};
let dragged = null;

export function initEndpoints(editorOpener, statusShower) {
  openEditor = editorOpener;
  showStatus = statusShower;
  $("#add-endpoint").addEventListener("click", () => openEditor(null));
  $("#pin-select").addEventListener("change", (e) => setRouting({ pinned: e.target.value || null }));
  $("#pause-switch").addEventListener("change", (e) => setRouting({ paused: e.target.checked }));
}

async function setRouting(changes) {
  $("#routing-error").textContent = "";
  try {
    await write("PUT", "routing", changes);
    await refreshEndpoints();
  } catch (error) {
    $("#routing-error").textContent = error.message;
  }
}

export async function refreshEndpoints() {
  const data = await loadEndpoints();
  showStatus(data);
  renderRouting(data);
  renderList(data.endpoints);
  return data;
}

function renderRouting(data) {
  const select = $("#pin-select");
  if (document.activeElement !== select) {
    select.replaceChildren(
      h("option", { value: "", text: "Automatic" }),
      ...data.endpoints.map((e) => h("option", { value: e.name, text: `${e.name} first`, title: e.name })),
    );
    select.value = data.pinned || "";
  }
  $("#pause-switch").checked = data.paused;
}

let rendered = "";

function renderList(rows) {
  const fingerprint = JSON.stringify([rows, [...testResults]]);
  if (dragged || fingerprint === rendered) return; // a re-render would end a drag
  rendered = fingerprint;
  const list = $("#endpoint-list");
  const focused = document.activeElement?.closest?.("[data-name]")?.dataset.name;
  const focusClass = document.activeElement?.dataset?.role;
  list.replaceChildren(...rows.map((row, i) => endpointRow(row, i, rows.length)));
  if (focused && focusClass) {
    list.querySelector(`[data-name="${CSS.escape(focused)}"] [data-role="${focusClass}"]`)?.focus();
  }
}

function keyWords(key) {
  if (!key.needed) return "Claude Code's own credentials";
  if (key.source.startsWith("env:")) return key.set ? `key from ${key.source.slice(4)}` : key.problem;
  return key.set ? `key set, ends in ${key.last4 || "····"}` : "no key set: Edit to add one (skipped until then)";
}

// Ready to serve only with its key: an endpoint that needs one and has none says so.
function missingKey(row) {
  return row.key.needed && !row.key.set;
}

function stateBadge(row) {
  if (row.state === "no_key" || (row.state === "ok" && missingKey(row))) {
    return h("span", { class: "badge nokey", title: row.key.problem || "", text: "no key" });
  }
  let words = STATE_WORDS[row.state] || row.state;
  if (row.state === "cooling" || row.state === "auth_error") words += ` · ${Math.ceil(row.retry_in)} s`;
  return h("span", { class: `badge ${row.state}`, title: row.last_error || "", text: words });
}

function endpointRow(row, index, count) {
  const item = h("li", {
    class: `endpoint${row.enabled ? "" : " disabled"}`, draggable: "true", "data-name": row.name,
    ondragstart: (e) => startDrag(e, item), ondragend: () => endDrag(),
    ondragover: (e) => overDrag(e, item), ondragleave: () => item.classList.remove("drop-before", "drop-after"),
    ondrop: (e) => dropOn(e, item),
  });
  const handle = h("button", {
    class: "handle", type: "button", "data-role": "handle", text: "⋮⋮",
    "aria-label": `Move ${row.name} (position ${index + 1} of ${count}); use the arrow keys`,
    onkeydown: (e) => moveByKey(e, row.name),
  });
  const enabled = h("input", {
    type: "checkbox", role: "switch", checked: row.enabled, "data-role": "enabled",
    "aria-label": `${row.name} enabled`, onchange: (e) => setEnabled(row.name, e.target.checked),
  });
  const result = testResults.get(row.name);
  item.append(
    handle,
    h("div", { class: "ep-main" },
      h("div", { class: "ep-title" },
        h("span", { class: "ep-name", text: row.name }), stateBadge(row),
        row.primary ? h("span", { class: "badge tag", text: "primary" }) : null,
        row.pinned ? h("span", { class: "badge tag", text: "pinned" }) : null,
        row.format === "openai" ? h("span", { class: "badge tag", text: "OpenAI format" }) : null),
      h("div", { class: "ep-url", text: row.base_url, title: row.base_url }),
      h("div", { class: "ep-meta", text: keyWords(row.key) }),
      usageBlock(row.usage)),
    h("div", { class: "ep-actions" },
      h("button", { type: "button", class: "small", "data-role": "test", text: "Test",
        onclick: (e) => testEndpoint(row.name, e.target) }),
      h("button", { type: "button", class: "small", "data-role": "edit", text: "Edit",
        "aria-label": `Edit ${row.name}`, onclick: () => openEditor(row.name) }),
      h("label", { class: "switch-label", title: row.enabled ? "Enabled" : "Disabled" },
        enabled, h("span", { class: "switch", "aria-hidden": "true" }))),
    h("div", { class: `ep-test ${result?.ok ? "ok" : "bad"}`, role: "status", "data-role": "result",
      text: result ? describeTest(result) : "" }),
  );
  return item;
}

// The subscription's limits, as the endpoint's last answer stated them (rate-limit headers):
// one small bar per window ("5-hour", "Weekly", "Weekly (opus)") and when it resets.
const WINDOW_WORDS = { "5h": "5-hour", "7d": "Weekly" };
const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

function windowLabel(name) {
  const [base, model] = name.split(/_(.*)/);
  const words = WINDOW_WORDS[base] || base;
  return model ? `${words} (${model})` : words;
}

// "14:00" today, "Fri 14:00" on another day, in the user's zone.
function resetWords(epochSeconds) {
  const when = new Date(epochSeconds * 1000);
  const time = `${String(when.getHours()).padStart(2, "0")}:${String(when.getMinutes()).padStart(2, "0")}`;
  return when.toDateString() === new Date().toDateString() ? time : `${WEEKDAYS[when.getDay()]} ${time}`;
}

function usageWindow(w, usage) {
  const percent = Math.round(w.utilization * 100);
  const rejected = w.status === "rejected" || (usage.status === "rejected" && percent >= 100);
  const level = rejected ? "rejected" : w.status === "allowed_warning" || percent >= 80 ? "warn" : "ok";
  const reset = w.reset ? `, resets ${resetWords(w.reset)}` : "";
  const words = `${rejected ? "limit reached" : `${percent} %`}${reset}`;
  const fill = h("span");
  fill.style.width = `${Math.min(100, Math.max(0, percent))}%`; // CSSOM: the CSP refuses style attributes
  return h("div", { class: `usage-window ${level}`, "data-window": w.name },
    h("span", { class: "usage-label", text: windowLabel(w.name) }),
    h("span", { class: "usage-bar", role: "meter", "aria-valuemin": "0", "aria-valuemax": "100",
      "aria-valuenow": String(percent), "aria-label": `${windowLabel(w.name)} limit used` }, fill),
    h("span", { class: "usage-words", text: words }));
}

function usageBlock(usage) {
  if (!usage) return null;
  const windows = usage.windows.filter((w) => w.utilization !== null);
  const rejected = usage.status === "rejected";
  if (!windows.length && !rejected) return null;
  const until = usage.reset ? `: refused until ${resetWords(usage.reset)}` : "";
  return h("div", { class: "ep-usage", "data-role": "usage" },
    rejected ? h("div", { class: "usage-rejected", role: "status",
      text: `Subscription limit reached${until}` }) : null,
    windows.map((w) => usageWindow(w, usage)));
}

function describeTest(result) {
  if (result.pending) return "Testing…";
  const status = result.status === null ? "no response" : `HTTP ${result.status}`;
  const model = result.model ? ` · model ${result.model}` : "";
  const head = `${result.ok ? "✓ " : "✗ "}${status} in ${Math.round(result.latency_ms)} ms${model}`;
  // The note explains a 401 from an endpoint that uses Claude Code's own credentials:
  // any other status means something else, so it would mislead there.
  const note = result.status === 401 ? result.note : "";
  const tail = [result.error, note].filter(Boolean).join(" — ");
  return tail ? `${head} — ${tail}` : head;
}

async function testEndpoint(name, button) {
  button.disabled = true;
  testResults.set(name, { pending: true, ok: true });
  renderList(state.endpoints.endpoints);
  try {
    testResults.set(name, await api("POST", `endpoints/${enc(name)}/test`, {}));
  } catch (error) {
    testResults.set(name, { ok: false, status: null, latency_ms: 0, error: error.message });
  }
  renderList(state.endpoints.endpoints);
}

async function setEnabled(name, enabled) {
  try {
    await write("PUT", `endpoints/${enc(name)}/enabled`, { enabled });
  } catch (error) {
    toast(error.message);
  }
  await refreshEndpoints();
}

async function saveOrder(names) {
  try {
    await write("PUT", "order", { names });
  } catch (error) {
    toast(error.message);
  }
  await refreshEndpoints();
}

function currentNames() {
  return state.endpoints.endpoints.map((e) => e.name);
}

function moveByKey(event, name) {
  const step = { ArrowUp: -1, ArrowDown: 1 }[event.key];
  if (!step) return;
  event.preventDefault();
  const names = currentNames();
  const from = names.indexOf(name);
  const to = from + step;
  if (to < 0 || to >= names.length) return;
  names.splice(to, 0, names.splice(from, 1)[0]);
  saveOrder(names);
}

function startDrag(event, item) {
  dragged = item.dataset.name;
  item.classList.add("dragging");
  event.dataTransfer.effectAllowed = "move";
  event.dataTransfer.setData("text/plain", dragged);
}

function endDrag() {
  dragged = null;
  for (const el of document.querySelectorAll(".endpoint")) {
    el.classList.remove("dragging", "drop-before", "drop-after");
  }
}

function isAfter(event, item) {
  const box = item.getBoundingClientRect();
  return event.clientY > box.top + box.height / 2;
}

function overDrag(event, item) {
  if (!dragged || item.dataset.name === dragged) return;
  event.preventDefault();
  const after = isAfter(event, item);
  item.classList.toggle("drop-after", after);
  item.classList.toggle("drop-before", !after);
}

function dropOn(event, item) {
  event.preventDefault();
  const moving = dragged || event.dataTransfer.getData("text/plain");
  const target = item.dataset.name;
  const after = isAfter(event, item);
  endDrag();
  if (!moving || moving === target) return;
  const names = currentNames().filter((n) => n !== moving);
  names.splice(names.indexOf(target) + (after ? 1 : 0), 0, moving);
  saveOrder(names);
}
