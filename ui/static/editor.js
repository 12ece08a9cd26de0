// The endpoint editor: presets, fields, write-only key, model map and header rows.
import { enc, loadConfig, state, write } from "./api.js";
import { $, $$, ask, clearErrors, h, showError, showErrors, toast } from "./dom.js";
import { PRESETS } from "./presets.js";
import { initModelList, resetModelList } from "./models.js";

let editing = null; // the endpoint's name before this edit, or null for a new one
let done = () => {};
let pristine = ""; // the form as it was opened: anything else is unsaved

export function initEditor(onDone) {
  done = onDone;
  const form = $("#editor-form");
  $("#preset").replaceChildren(
    h("option", { value: "", text: "Choose a provider…" }),
    ...PRESETS.map((p) => h("option", { value: p.id, text: p.label })),
  );
  $("#preset").addEventListener("change", (e) => applyPreset(e.target.value));
  $("#ed-auth").addEventListener("change", updateKeyFields);
  $("#ed-key-source").addEventListener("change", updateKeyFields);
  $("#add-model").addEventListener("click", () => addModelRow("", "", true));
  $("#add-header").addEventListener("click", () => addHeaderRow("", "", false, true));
  $("#editor-back").addEventListener("click", leave);
  $("#editor-cancel").addEventListener("click", leave);
  $("#editor-delete").addEventListener("click", deleteEndpoint);
  $("#remove-key").addEventListener("click", removeKey);
  form.addEventListener("submit", (e) => { e.preventDefault(); save(); });
  initModelList();
}

function endpointView(name) {
  return state.config.config.endpoints.find((e) => e.name === name);
}

export function openEditor(name) {
  editing = name;
  const form = $("#editor-form");
  clearErrors(form);
  const endpoint = name ? endpointView(name) : {
    name: "", base_url: "", format: "anthropic", auth: "bearer", key: "keyring",
    models: {}, headers: {}, enabled: true,
  };
  $("#h-editor").textContent = name ? `Edit ${name}` : "Add endpoint";
  $("#preset-field").hidden = Boolean(name);
  $("#preset").value = "";
  $("#editor-delete").hidden = !name;
  fill(endpoint);
  resetModelList(name);
  pristine = snapshotForm();
  (name ? $("#ed-name") : $("#preset")).focus();
}

function snapshotForm() {
  return JSON.stringify([collect(), $("#ed-secret").value, $("#ed-env-var").value]);
}

// Whether the editor holds changes that were not saved.
export function editorDirty() {
  return !$("#view-editor").hidden && snapshotForm() !== pristine;
}

// Ask before unsaved changes are thrown away; resolves whether leaving is fine.
export async function confirmLeave() {
  if (!editorDirty()) return true;
  const what = editing ? `your changes to ${editing}` : "this new endpoint";
  const ok = await ask(`Discard ${what}?`, { yes: "Discard", no: "Keep editing", danger: true,
    detail: "They have not been saved." });
  if (ok) pristine = snapshotForm();
  return ok;
}

async function leave() {
  if (await confirmLeave()) done();
}

function fill(endpoint) {
  $("#ed-name").value = endpoint.name;
  $("#ed-base_url").value = endpoint.base_url;
  $("#ed-ca_file").value = endpoint.ca_file || "";
  $("#ed-format").value = endpoint.format;
  $("#ed-auth").value = endpoint.auth;
  const key = endpoint.key || "keyring";
  $("#ed-key-source").value = key.startsWith("env:") ? "env" : "keyring";
  $("#ed-env-var").value = key.startsWith("env:") ? key.slice(4) : "";
  $("#ed-secret").value = "";
  $("#ed-enabled").checked = endpoint.enabled !== false;
  fillLimits(endpoint.limits || {});
  $("#model-rows").replaceChildren();
  for (const [pattern, target] of Object.entries(endpoint.models || {})) addModelRow(pattern, target);
  $("#header-rows").replaceChildren();
  for (const [name, value] of Object.entries(endpoint.headers || {})) {
    addHeaderRow(name, value ?? "", value === null);
  }
  fillPrice(endpoint.price);
  updateKeyFields();
  updateHeads();
}

function updateHeads() {
  $("#model-head").hidden = !$("#model-rows").children.length;
  $("#header-head").hidden = !$("#header-rows").children.length;
}

// The endpoint's own price for the usage ledger; empty inputs: the bundled price table.
const PRICE_KINDS = ["input", "output", "cache_read", "cache_write"];

function fillPrice(price) {
  for (const kind of PRICE_KINDS) $(`#ed-price-${kind}`).value = price?.[kind] ?? "";
}

function collectPrice() {
  const given = PRICE_KINDS.filter((kind) => $(`#ed-price-${kind}`).value.trim() !== "");
  if (!given.length) return undefined;
  return Object.fromEntries(PRICE_KINDS.map((kind) => [kind, Number($(`#ed-price-${kind}`).value || 0)]));
}

const LIMIT_FIELDS = { "#ed-max-output": "max_output_tokens", "#ed-context": "context_tokens", "#ed-tools": "tools" };

function fillLimits(limits) {
  for (const [selector, key] of Object.entries(LIMIT_FIELDS)) $(selector).value = limits[key] ?? "";
  $("#ed-images").checked = limits.images !== false;
}

function collectLimits() {
  const limits = {};
  for (const [selector, key] of Object.entries(LIMIT_FIELDS)) {
    const text = $(selector).value.trim();
    if (text) limits[key] = Number.isNaN(Number(text)) ? text : Number(text);
  }
  if (!$("#ed-images").checked) limits.images = false;
  return limits;
}

function uniqueName(base) {
  const names = new Set(state.config.config.endpoints.map((e) => e.name));
  let name = base;
  for (let i = 2; names.has(name); i += 1) name = `${base}-${i}`;
  return name;
}

function applyPreset(id) {
  const preset = PRESETS.find((p) => p.id === id);
  if (!preset) return;
  fill({
    name: uniqueName(preset.name), base_url: preset.base_url, format: preset.format,
    auth: preset.auth, key: "keyring", models: preset.models, headers: preset.headers || {},
    limits: preset.limits || {}, enabled: true,
  });
}

function updateKeyFields() {
  const usesKey = $("#ed-auth").value !== "client";
  const fromEnv = $("#ed-key-source").value === "env";
  $("#key-source-field").hidden = !usesKey;
  $("#env-var-field").hidden = !usesKey || !fromEnv;
  $("#secret-field").hidden = !usesKey || fromEnv;
  const info = editing ? state.config.keys[editing] : null;
  const stored = info && info.set && info.source === "keyring";
  $("#ed-secret").placeholder = stored ? `Set — ends in ${info.last4 || "····"}` : "Not set";
  $("#remove-key").hidden = !stored;
}

function removeButton(label, row) {
  return h("button", { type: "button", class: "small", "aria-label": label, text: "✕",
    onclick: () => { row().remove(); updateHeads(); } });
}

function addModelRow(pattern, target, focus = false) {
  let row;
  const from = h("input", { value: pattern, placeholder: "claude-sonnet-*", "aria-label": "Model pattern",
    spellcheck: "false", "data-role": "pattern" });
  const to = h("input", { value: target, placeholder: "provider/model-name", "aria-label": "Send as",
    spellcheck: "false", "data-role": "target", list: "provider-models" });
  row = h("div", { class: "map-row" }, from, h("span", { class: "arrow", text: "→" }), to,
    removeButton("Remove this mapping", () => row));
  // A new row goes above a catch-all "*" row, which would otherwise hide it (first match wins).
  const catchAll = $$("#model-rows .map-row").find((r) => $("[data-role=pattern]", r).value.trim() === "*");
  if (focus && catchAll) catchAll.before(row);
  else $("#model-rows").append(row);
  updateHeads();
  if (focus) from.focus();
}

function addHeaderRow(name, value, removes, focus = false) {
  let row;
  const nameInput = h("input", { value: name, placeholder: "header-name", "aria-label": "Header name",
    spellcheck: "false", "data-role": "header-name" });
  const valueInput = h("input", { value, placeholder: "value", "aria-label": "Header value",
    spellcheck: "false", disabled: removes, "data-role": "header-value" });
  const remove = h("input", { type: "checkbox", checked: removes, "data-role": "header-remove",
    onchange: (e) => { valueInput.disabled = e.target.checked; } });
  row = h("div", { class: "header-row" }, nameInput, valueInput,
    h("label", { class: "hint" }, remove, " Remove"), removeButton("Delete this header row", () => row));
  $("#header-rows").append(row);
  updateHeads();
  if (focus) nameInput.focus();
}

// Settings this form does not show (added by newer versions) go back as they came.
const SHOWN = ["name", "base_url", "format", "auth", "key", "models", "headers", "enabled", "ca_file", "price"];

function collect() {
  const auth = $("#ed-auth").value;
  const original = editing ? endpointView(editing) || {} : {};
  const fields = {
    ...Object.fromEntries(Object.entries(original).filter(([k]) => !SHOWN.includes(k))),
    name: $("#ed-name").value.trim(),
    base_url: $("#ed-base_url").value.trim(),
    format: $("#ed-format").value,
    auth,
    models: {},
    headers: {},
    limits: collectLimits(),
    enabled: $("#ed-enabled").checked,
  };
  if (auth !== "client") {
    fields.key = $("#ed-key-source").value === "env" ? `env:${$("#ed-env-var").value.trim()}` : "keyring";
  }
  for (const row of $$("#model-rows .map-row")) {
    const pattern = $("[data-role=pattern]", row).value.trim();
    if (pattern) fields.models[pattern] = $("[data-role=target]", row).value.trim();
  }
  for (const row of $$("#header-rows .header-row")) {
    const name = $("[data-role=header-name]", row).value.trim();
    const removes = $("[data-role=header-remove]", row).checked;
    if (name) fields.headers[name] = removes ? null : $("[data-role=header-value]", row).value;
  }
  if ($("#ed-ca_file").value.trim()) fields.ca_file = $("#ed-ca_file").value.trim();
  const price = collectPrice();
  if (price) fields.price = price;
  const secret = $("#ed-secret").value;
  if (secret && auth !== "client" && fields.key === "keyring") fields.secret = secret;
  return fields;
}

// The index the endpoint being edited has (or will have) in the file.
function editedIndex() {
  const names = state.config.config.endpoints.map((e) => e.name);
  return editing ? names.indexOf(editing) : names.length;
}

// "endpoints[3].models.claude-*" -> "models"; "secret" -> "secret"; elsewhere: the form.
// An error in another endpoint of the file is not this form's: it goes above the form.
export function editorField(path) {
  const match = /^endpoints\[(\d+)\]\.([a-z_]+)/.exec(path);
  if (match) {
    if (Number(match[1]) !== editedIndex()) return "";
    return match[2] === "key" && $("#ed-key-source").value === "env" ? "env_var" : match[2];
  }
  return ["name", "secret", "key"].includes(path) ? path : "";
}

// A server error that is not about this endpoint says where it is.
function placeError(error) {
  const match = /^endpoints\[(\d+)\]/.exec(error.field || "");
  const other = match && Number(match[1]) !== editedIndex();
  if (!other) return error;
  const name = state.config.config.endpoints[Number(match[1])]?.name || `endpoint ${Number(match[1]) + 1}`;
  const fix = state.config.problem ? "Fix it in the config file first (see above)" : `Edit ${name} first`;
  return { field: "", message: `Not saved: another endpoint, ${name}, has a problem (${error.message}). ${fix}.` };
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ENV_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

function urlProblem(url) {
  if (!url) return "Enter the provider's base URL, e.g. https://openrouter.ai/api";
  try {
    const parsed = new URL(url);
    if (!["http:", "https:"].includes(parsed.protocol)) throw new Error();
    if (parsed.search || parsed.hash) return "A base URL has no ?query or #fragment";
  } catch {
    return "This is not an http:// or https:// URL";
  }
  return "";
}

// Every problem a person can fix before saving, each under its own field.
export function editorProblems(fields) {
  const problems = [];
  const others = state.config.config.endpoints.map((e) => e.name).filter((n) => n !== editing);
  if (!fields.name) problems.push({ field: "name", message: "Give the endpoint a name" });
  else if (others.includes(fields.name)) problems.push({ field: "name", message: "This name is already used by another endpoint" });
  else if (!NAME_RE.test(fields.name)) problems.push({ field: "name", message: "Use letters, digits, dots, dashes or underscores (at most 64), starting with a letter or digit" });
  const url = urlProblem(fields.base_url);
  if (url) problems.push({ field: "base_url", message: url });
  if (fields.key?.startsWith("env:")) {
    const variable = fields.key.slice(4);
    if (!variable) problems.push({ field: "env_var", message: "Name the environment variable that holds the key" });
    else if (!ENV_RE.test(variable)) problems.push({ field: "env_var", message: "A variable name has letters, digits and underscores, and does not start with a digit" });
  }
  const secret = $("#ed-secret").value.trim();
  if (/\s/.test(secret) && fields.key === "keyring" && fields.auth !== "client") {
    problems.push({ field: "secret", message: "A key has no spaces or line breaks inside: check that you copied only the key" });
  }
  for (const row of $$("#model-rows .map-row")) {
    const pattern = $("[data-role=pattern]", row);
    const target = $("[data-role=target]", row);
    if (pattern.value.trim() && !target.value.trim()) {
      problems.push({ field: "models", input: target, message: `Say which model to send when Claude Code asks for ${pattern.value.trim()}` });
    } else if (!pattern.value.trim() && target.value.trim()) {
      problems.push({ field: "models", input: pattern, message: `Say which model names ${target.value.trim()} replaces (a * matches anything)` });
    }
  }
  for (const row of $$("#header-rows .header-row")) {
    const name = $("[data-role=header-name]", row);
    if (!name.value.trim() && $("[data-role=header-value]", row).value.trim()) {
      problems.push({ field: "headers", input: name, message: "Give this header a name" });
    }
  }
  return problems;
}

// Spaces around a pasted key are never part of it: trim them, and say so.
function trimSecret() {
  const input = $("#ed-secret");
  const trimmed = input.value.trim();
  if (trimmed === input.value) return "";
  input.value = trimmed;
  return "Removed the spaces around the key you pasted.";
}

async function save() {
  const form = $("#editor-form");
  clearErrors(form);
  const trimmedNote = trimSecret();
  const fields = collect();
  if (showErrors(form, editorProblems(fields), $("#err-general"))) return;
  try {
    if (editing) await write("PUT", `endpoints/${enc(editing)}`, fields);
    else await write("POST", "endpoints", fields);
    toast(trimmedNote ? `Saved ${fields.name}. ${trimmedNote}` : `Saved ${fields.name}`);
    pristine = snapshotForm();
    done();
  } catch (error) {
    showError(form, placeError(error), editorField, $("#err-general"));
  }
}

async function deleteEndpoint() {
  if (!editing) return;
  const info = state.config.keys[editing];
  const detail = info?.set && info.source === "keyring"
    ? "Its key is removed from the keyring too." : "This cannot be undone.";
  if (!await ask(`Delete ${editing}?`, { yes: "Delete", danger: true, detail })) return;
  try {
    await write("DELETE", `endpoints/${enc(editing)}`, {});
    toast(`Deleted ${editing}`);
    pristine = snapshotForm();
    done();
  } catch (error) {
    showError($("#editor-form"), error, editorField, $("#err-general"));
  }
}

async function removeKey() {
  try {
    await write("DELETE", `keys/${enc(editing)}`, {});
    await loadConfig();
    updateKeyFields();
    toast(`Removed the key of ${editing}`);
  } catch (error) {
    showError($("#editor-form"), error, () => "secret", $("#err-general"));
  }
}
