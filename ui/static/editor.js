// The endpoint editor: presets, fields, write-only key, model map and header rows.
import { enc, loadConfig, state, write } from "./api.js";
import { $, $$, clearErrors, h, showError, toast } from "./dom.js";
import { PRESETS } from "./presets.js";

let editing = null; // the endpoint's name before this edit, or null for a new one
let done = () => {};

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
  $("#editor-back").addEventListener("click", () => done());
  $("#editor-cancel").addEventListener("click", () => done());
  $("#editor-delete").addEventListener("click", deleteEndpoint);
  $("#remove-key").addEventListener("click", removeKey);
  form.addEventListener("submit", (e) => { e.preventDefault(); save(); });
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
  (name ? $("#ed-name") : $("#preset")).focus();
}

function fill(endpoint) {
  $("#ed-name").value = endpoint.name;
  $("#ed-base_url").value = endpoint.base_url;
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
  updateKeyFields();
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
    onclick: () => row().remove() });
}

function addModelRow(pattern, target, focus = false) {
  let row;
  const from = h("input", { value: pattern, placeholder: "claude-sonnet-*", "aria-label": "Model pattern",
    spellcheck: "false", "data-role": "pattern" });
  const to = h("input", { value: target, placeholder: "provider/model-name", "aria-label": "Send as",
    spellcheck: "false", "data-role": "target" });
  row = h("div", { class: "map-row" }, from, h("span", { class: "arrow", text: "→" }), to,
    removeButton("Remove this mapping", () => row));
  // A new row goes above a catch-all "*" row, which would otherwise hide it (first match wins).
  const catchAll = $$("#model-rows .map-row").find((r) => $("[data-role=pattern]", r).value.trim() === "*");
  if (focus && catchAll) catchAll.before(row);
  else $("#model-rows").append(row);
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
  if (focus) nameInput.focus();
}

function collect() {
  const auth = $("#ed-auth").value;
  const fields = {
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
  const secret = $("#ed-secret").value;
  if (secret && auth !== "client" && fields.key === "keyring") fields.secret = secret;
  return fields;
}

// "endpoints[3].models.claude-*" -> "models"; "secret" -> "secret"; elsewhere: the form.
export function editorField(path) {
  const match = /^endpoints\[\d+\]\.([a-z_]+)/.exec(path);
  if (match) return match[1];
  return ["name", "secret", "key"].includes(path) ? path : "";
}

async function save() {
  const form = $("#editor-form");
  clearErrors(form);
  const fields = collect();
  try {
    if (editing) await write("PUT", `endpoints/${enc(editing)}`, fields);
    else await write("POST", "endpoints", fields);
    toast(`Saved ${fields.name}`);
    done();
  } catch (error) {
    showError(form, error, editorField, $("#err-general"));
  }
}

async function deleteEndpoint() {
  if (!editing || !window.confirm(`Delete ${editing}? Its key is removed from the keyring too.`)) return;
  try {
    await write("DELETE", `endpoints/${enc(editing)}`, {});
    toast(`Deleted ${editing}`);
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
