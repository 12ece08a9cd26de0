// Claude Code setup: env snippets with copy buttons; the confirmed settings.json write.
import { api } from "./api.js";
import { $, copyText, h } from "./dom.js";

export function initClaude() {
  $("#write-settings").addEventListener("click", askToWrite);
  $("#settings-confirm-no").addEventListener("click", () => { $("#settings-confirm").hidden = true; });
  $("#settings-confirm-yes").addEventListener("click", writeSettings);
}

export async function showClaude() {
  const data = await api("GET", "claude-code");
  $("#snippets").replaceChildren(...data.snippets.map(snippetCard));
  $("#settings-path").textContent = data.settings_path;
  const current = data.current.ANTHROPIC_BASE_URL;
  $("#settings-current").textContent = current
    ? `It sets ANTHROPIC_BASE_URL to ${current} now.`
    : "It does not set ANTHROPIC_BASE_URL now.";
  $("#settings-confirm").hidden = true;
  $("#confirm-text").textContent = `Set ANTHROPIC_BASE_URL to ${data.url} in ${data.settings_path}?`;
}

function snippetCard(snippet) {
  const pre = h("pre", { text: snippet.text, tabindex: "0", "aria-label": `${snippet.label} snippet` });
  const button = h("button", { type: "button", class: "small", text: "Copy",
    "aria-label": `Copy the ${snippet.label} snippet`, onclick: (e) => copyText(snippet.text, e.target) });
  return h("div", { class: "card snippet", "data-shell": snippet.shell },
    h("div", { class: "snippet-head" }, h("h2", { text: snippet.label }), button), pre);
}

function askToWrite() {
  $("#settings-error").textContent = "";
  $("#settings-result").textContent = "";
  $("#settings-confirm").hidden = false;
  $("#settings-confirm-yes").focus();
}

async function writeSettings() {
  $("#settings-confirm").hidden = true;
  try {
    const written = await api("POST", "claude-code/settings", { confirm: true });
    const backup = written.backup ? ` The previous file is kept as ${written.backup}.` : "";
    $("#settings-result").textContent = `Wrote ${written.path}.${backup} Restart Claude Code to use it.`;
    await showClaude();
  } catch (error) {
    $("#settings-error").textContent = error.message;
  }
}
