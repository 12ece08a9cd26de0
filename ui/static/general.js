// General settings: listening address, failover, timeouts, access token, usage history.
import { state, write } from "./api.js";
import { $, clearErrors, showError, showErrors } from "./dom.js";

const NUMBERS = {
  "#gen-cooldown": ["failover", "cooldown_seconds"],
  "#gen-max-cooldown": ["failover", "max_cooldown_seconds"],
  "#gen-connect": ["timeouts", "connect"],
  "#gen-first-byte": ["timeouts", "first_byte"],
  "#gen-idle": ["timeouts", "idle"],
  "#gen-retention": ["usage", "retention_days"],
};

export function initGeneral() {
  $("#general-form").addEventListener("submit", (e) => { e.preventDefault(); save(); });
  $("#gen-token-new").addEventListener("click", () => { $("#gen-token").value = randomToken(); });
  $("#gen-token-clear").addEventListener("click", () => { $("#gen-token").value = ""; });
}

function randomToken() {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function showGeneral() {
  const { config, overrides, url } = state.config;
  clearErrors($("#general-form"));
  $("#gen-saved").textContent = "";
  $("#gen-host").value = config.listen.host;
  $("#gen-port").value = config.listen.port;
  for (const [selector, [section, key]] of Object.entries(NUMBERS)) {
    $(selector).value = config[section][key];
  }
  $("#gen-on-status").value = config.failover.on_status.join(", ");
  $("#gen-token").value = config.security.access_token || "";
  const forced = Object.entries(overrides).map(([field, variable]) => `${variable} overrides ${field}`);
  const port = Number(new URL(url).port || 80);
  const listening = [port, 0].includes(config.listen.port) || forced.length || state.config.problem
    ? `Listening on ${url}.`
    : `Not listening on port ${config.listen.port}: another program has it. This window uses a temporary address until you save a free port.`;
  $("#listen-hint").textContent = listening + (forced.length ? ` ${forced.join("; ")} while it is set.` : "");
}

function numberOrText(value) {
  const text = value.trim();
  return text !== "" && !Number.isNaN(Number(text)) ? Number(text) : text;
}

function statuses(text) {
  return text.split(",").map((s) => s.trim()).filter(Boolean).map(numberOrText);
}

function collect() {
  const general = {
    listen: { host: $("#gen-host").value.trim(), port: numberOrText($("#gen-port").value) },
    failover: { on_status: statuses($("#gen-on-status").value) },
    timeouts: {},
    security: { access_token: $("#gen-token").value.trim() || null },
    usage: {},
  };
  for (const [selector, [section, key]] of Object.entries(NUMBERS)) {
    const text = $(selector).value.trim();
    general[section][key] = section === "timeouts" && text === "" ? null : numberOrText(text); // empty: default
  }
  return general;
}

const SECONDS = {
  "failover.cooldown_seconds": [0, "Use a number of seconds, 0 or more"],
  "failover.max_cooldown_seconds": [0, "Use a number of seconds, 0 or more"],
  "timeouts.connect": [0.001, "Use a number of seconds above 0"],
  "timeouts.first_byte": [0.001, "Use a number of seconds above 0"],
  "timeouts.idle": [0.001, "Use a number of seconds above 0"],
};

function statusProblem(item) {
  if (typeof item === "number") return Number.isInteger(item) && item >= 100 && item <= 599 ? "" : String(item);
  return /^[1-5]xx$/.test(item) ? "" : item;
}

// Every problem a person can fix before saving, each under its own field.
export function generalProblems(general) {
  const problems = [];
  const port = general.listen.port;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    problems.push({ field: "listen.port", message: "Use a port from 1 to 65535" });
  }
  if (!general.listen.host) problems.push({ field: "listen.host", message: "Enter an address to listen on, e.g. 127.0.0.1" });
  const bad = general.failover.on_status.map(statusProblem).filter(Boolean);
  if (bad.length) {
    problems.push({ field: "failover.on_status", message: `Not a status: ${bad.join(", ")}. Use numbers from 100 to 599, or 4xx and 5xx` });
  }
  for (const [path, [low, message]] of Object.entries(SECONDS)) {
    const [section, key] = path.split(".");
    const value = general[section][key];
    if (value === null && section === "timeouts") continue; // empty: the default
    if (typeof value !== "number" || value < low) problems.push({ field: path, message });
  }
  const { cooldown_seconds: first, max_cooldown_seconds: longest } = general.failover;
  if (typeof first === "number" && typeof longest === "number" && longest < first) {
    problems.push({ field: "failover.max_cooldown_seconds", message: "Make the longest cooldown at least the first one" });
  }
  const days = general.usage.retention_days;
  if (!Number.isInteger(days) || days < 1 || days > 3650) {
    problems.push({ field: "usage.retention_days", message: "Use a whole number of days from 1 to 3650" });
  }
  const token = general.security.access_token;
  if (token && token.length < 16) problems.push({ field: "security.access_token", message: "Use at least 16 characters, or Generate one" });
  return problems;
}

// "failover.on_status[2]" -> "failover.on_status"
function generalField(path) {
  return path.replace(/\[\d+\]$/, "");
}

async function save() {
  const form = $("#general-form");
  clearErrors(form);
  const before = state.config.url;
  const general = collect();
  if (showErrors(form, generalProblems(general), $("#gen-err-general"))) return;
  try {
    const data = await write("PUT", "general", general);
    if (data.url && data.url !== before) {
      $("#gen-saved").textContent = `Now listening on ${data.url}; opening the page there…`;
      window.location.assign(`${data.url}/_ccf/#moved`);
      return;
    }
    $("#gen-saved").textContent = "Saved; new requests use it now.";
    showGeneral();
    $("#gen-saved").textContent = "Saved; new requests use it now.";
  } catch (error) {
    showError(form, error, generalField, $("#gen-err-general"));
  }
}
