// Check set-up: the same checks as `ccf doctor`, each finding with its fix, a button where
// the fix is safe; and Stop using the proxy (settings.json gets its earlier values back).
import { api } from "./api.js";
import { $, h } from "./dom.js";
import { initMovingIn } from "./movein.js";

const LEVEL_TEXT = { ok: "OK", info: "Note", warn: "Check", fail: "Problem" };
const TITLES = {
  config: "Config file", "claude-settings": "Claude Code's settings.json", shell: "Environment",
  "dead-port": "Nothing listening", conflict: "Conflicting variables", models: "Model override",
  backup: "Backup of settings.json", keyring: "Keyring", port: "Port", autostart: "Start at login",
};
const title = (check) => check.startsWith("endpoint:") ? `Endpoint ${check.slice(9)}` : TITLES[check] || check;
const ACTIONS = {
  "write-settings": { label: "Write to settings.json", path: "claude-code/settings",
    ask: "Set the proxy's variables in Claude Code's settings.json (a backup is kept)?" },
  "stop-using": { label: "Stop using the proxy", path: "claude-code/restore",
    ask: "Give Claude Code's settings.json back the values it had before this app changed it?" },
};

export function initDoctor() {
  $("#doctor-run").addEventListener("click", () => showDoctor());
  $("#doctor-stop").addEventListener("click", (event) => confirmAction("stop-using", event.target));
  initMovingIn();
}

export async function showDoctor() {
  const network = $("#doctor-network").checked ? "1" : "0";
  $("#doctor-status").textContent = "Checking…";
  $("#doctor-result").textContent = "";
  const report = await api("GET", `doctor?network=${network}`);
  $("#doctor-list").replaceChildren(...report.findings.map(findingCard));
  const problems = report.findings.filter((f) => f.level === "warn" || f.level === "fail").length;
  $("#doctor-status").textContent = problems ? `${problems} thing(s) to look at.` : "Everything checked is in order.";
}

function findingCard(finding) {
  const action = ACTIONS[finding.action];
  return h("div", { class: `card finding ${finding.level}`, "data-check": finding.check },
    h("div", { class: "snippet-head" },
      h("span", { class: `badge ${finding.level}`, text: LEVEL_TEXT[finding.level] }),
      h("strong", { text: title(finding.check) })),
    h("p", { text: finding.finding }),
    finding.fix && finding.level !== "ok" ? h("p", { class: "hint", text: `Fix: ${finding.fix}` }) : null,
    action ? h("button", { type: "button", class: "small", text: `${action.label}…`,
      onclick: (event) => confirmAction(finding.action, event.target) }) : null);
}

function confirmAction(name, button) {
  const action = ACTIONS[name];
  const box = h("div", { class: "confirm", role: "group" },
    h("p", { text: action.ask }),
    h("button", { type: "button", class: "primary", text: action.label,
      onclick: () => runAction(action, box) }),
    h("button", { type: "button", text: "Cancel", onclick: () => box.remove() }));
  button.after(box);
  box.querySelector("button").focus();
}

async function runAction(action, box) {
  box.remove();
  try {
    const answer = await api("POST", action.path, { confirm: true });
    await showDoctor();
    $("#doctor-result").textContent = answer.message || `Wrote ${answer.path}. Restart Claude Code to use it.`;
  } catch (error) {
    $("#doctor-result").textContent = error.message;
  }
}
