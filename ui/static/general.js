// General settings: listening address, failover, timeouts, access token.
import { state, write } from "./api.js";
import { $, clearErrors, showError } from "./dom.js";

const NUMBERS = {
  "#gen-cooldown": ["failover", "cooldown_seconds"],
  "#gen-max-cooldown": ["failover", "max_cooldown_seconds"],
  "#gen-connect": ["timeouts", "connect"],
  "#gen-first-byte": ["timeouts", "first_byte"],
  "#gen-idle": ["timeouts", "idle"],
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
  $("#listen-hint").textContent = `Listening on ${url}.` + (forced.length ? ` ${forced.join("; ")} while it is set.` : "");
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
  };
  for (const [selector, [section, key]] of Object.entries(NUMBERS)) {
    const text = $(selector).value.trim();
    general[section][key] = section === "timeouts" && text === "" ? null : numberOrText(text); // empty: default
  }
  return general;
}

// "failover.on_status[2]" -> "failover.on_status"
function generalField(path) {
  return path.replace(/\[\d+\]$/, "");
}

async function save() {
  const form = $("#general-form");
  clearErrors(form);
  const before = state.config.url;
  try {
    const data = await write("PUT", "general", collect());
    if (data.url && data.url !== before) {
      $("#gen-saved").textContent = `Now listening on ${data.url}; opening the page there…`;
      window.location.assign(`${data.url}/_ccf/#general`);
      return;
    }
    $("#gen-saved").textContent = "Saved; new requests use it now.";
    showGeneral();
    $("#gen-saved").textContent = "Saved; new requests use it now.";
  } catch (error) {
    showError(form, error, generalField, $("#gen-err-general"));
  }
}
