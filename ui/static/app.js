// The settings page: sections by URL hash, live status, banners, and polling while visible.
import { loadConfig, loadEndpoints, state } from "./api.js";
import { refreshActivity } from "./activity.js";
import { initClaude, showClaude } from "./claude.js";
import { $, $$, h, toast } from "./dom.js";
import { initDoctor, showDoctor } from "./doctor.js";
import { confirmLeave, editorDirty, initEditor, openEditor } from "./editor.js";
import { initEndpoints, refreshEndpoints } from "./endpoints.js";
import { initGeneral, showGeneral } from "./general.js";
import { initUsage, showUsage } from "./usage.js";

const VIEWS = ["endpoints", "editor", "general", "claude", "activity", "usage", "doctor"];
// Hashes that open the page somewhere with a message: the tray's one-click fixes.
const NOTICES = { notray: "endpoints", problem: "endpoints", moved: "general" };
const POLL_MS = 2000;
let current = "endpoints";
let signedOut = false;
let shownHash = "";

function showView(name) {
  current = VIEWS.includes(name) ? name : "endpoints";
  for (const view of VIEWS) $(`#view-${view}`).hidden = view !== current;
  const nav = current === "editor" ? "endpoints" : current;
  for (const link of $$(".sidebar a")) {
    if (link.dataset.nav === nav) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

let movedHere = false; // arrived from the old address after saving a new port

function takeNotice(name) {
  if (name === "moved") movedHere = true;
  if (name === "notray") $("#notray").hidden = false;
  if (name === "problem" && !$("#file-problem").hidden) $("#file-problem").focus();
  return portBlocked() ? "general" : NOTICES[name];
}

async function route() {
  if (!(await confirmLeave())) {
    history.replaceState(null, "", shownHash || "#endpoints"); // stay in the editor
    return;
  }
  let name = location.hash.slice(1) || (portBlocked() ? "general" : "endpoints");
  if (name in NOTICES) {
    name = takeNotice(name);
    history.replaceState(null, "", `#${name}`);
  }
  shownHash = `#${name}`;
  showView(name);
  try {
    if (current === "general") showGeneral();
    if (current === "claude") await showClaude();
    if (current === "activity") await refreshActivity();
    if (current === "usage") await showUsage();
    if (current === "doctor") await showDoctor();
    if (current === "endpoints") await refreshEndpoints();
    else showStatus(await loadEndpoints());
  } catch (error) {
    toast(error.message);
  }
  if (current === "general" && portBlocked()) $("#gen-port").focus();
  if (movedHere) {
    movedHere = false;
    const moved = `Now listening on ${state.config.url}. Point Claude Code at it: Claude Code has the lines to copy.`;
    $("#listen-hint").textContent = moved; // beside the port, where the eye is
    $("#gen-saved").textContent = moved;
  }
}

// The sidebar link of the section already in the address (Endpoints, from the editor)
// changes no hash, so no hashchange fires: route by hand.
function onNavClick(event) {
  const link = event.target.closest("a[href^='#']");
  if (!link || link.hash !== location.hash) return;
  event.preventDefault();
  route();
}

function editEndpoint(name) {
  showView("editor");
  openEditor(name);
}

async function editorDone() {
  await loadConfig();
  if (location.hash !== "#endpoints") location.hash = "#endpoints";
  else await route();
}

// The proxy could not listen on its port and serves this page on a spare one meanwhile.
function portBlocked() {
  const data = state.config;
  // A broken file shows the running settings, not the file's: no port to compare then.
  if (!data || data.problem || "listen.port" in data.overrides) return false;
  const wanted = data.config.listen.port;
  const port = Number(new URL(data.url).port || 80);
  return wanted !== 0 && port !== wanted; // port 0: any free port was asked for
}

// The status line in the same words and colours as the tray icon.
function statusWords(data) {
  if (portBlocked()) return ["error", `Not running: port ${state.config.config.listen.port} is in use`];
  const serving = data.endpoints.find((e) => e.name === data.serving);
  if (data.status === "paused" && serving && serving.state !== "ok") {
    return ["down", `Failover paused and ${serving.name} is failing: requests fail`];
  }
  if (data.status === "degraded" && serving?.pinned) {
    return ["pinned", `Pinned: serving via ${serving.name} (your choice)`];
  }
  if (data.problem && data.status === "ok") return ["warning", `${data.reason} · the config file has an error`];
  return [data.status, data.reason];
}

function showStatus(data) {
  const blocked = portBlocked();
  const [look, words] = statusWords(data);
  $("#status").dataset.state = look;
  const sentence = `${words[0].toUpperCase()}${words.slice(1)}`;
  $("#status-text").textContent = blocked ? sentence : `${sentence} · ${data.url}`;
  $("#port-problem").hidden = !blocked;
  // The first sentence says what happened; the page itself is the way to fix it.
  if (blocked) $("#port-problem-text").textContent = data.problem.split(/(?<=\.) /)[0];
  showFileProblem(blocked ? state.config.problem : data.problem || state.config.problem);
}

// The config file's problem: the running proxy's words (they name the line), else the page's.
function showFileProblem(problem) {
  const box = $("#file-problem");
  box.hidden = !problem;
  if (!problem) return;
  const file = state.config.file;
  const line = /line (\d+)/.exec(problem);
  $("#file-problem-path").textContent = file;
  $("#file-problem-line").textContent = line ? `, line ${line[1]}` : "";
  const what = problem
    .replace(/ \(still running with the last good settings\)$/, "")
    .replace(/^.* cannot be used \((.*)\); showing the running settings\.$/s, "$1")
    .replace(`${file} line ${line?.[1]}: `, "")
    .replace(`${file}: `, "");
  $("#file-problem-text").textContent = what;
  showBadLines(line ? Number(line[1]) : 0);
}

// The file around the bad line, numbered, the bad line marked.
function showBadLines(bad) {
  const lines = state.config.file_lines || [];
  const pre = $("#file-problem-lines");
  pre.hidden = !bad || !lines.length;
  if (pre.hidden) return;
  const first = Math.max(1, bad - 3);
  const last = Math.min(lines.length, bad + 2);
  const width = String(last).length;
  const rows = [];
  for (let n = first; n <= last; n += 1) {
    const text = `${String(n).padStart(width)}  ${lines[n - 1]}`;
    rows.push(n === bad ? h("mark", { text: `${text}\n` }) : `${text}\n`);
  }
  pre.replaceChildren(...rows);
}

async function poll() {
  if (signedOut || document.hidden) return;
  try {
    if (current === "activity") await refreshActivity();
    if (current === "endpoints") await refreshEndpoints();
    else showStatus(await loadEndpoints());
  } catch {
    // shown by the next successful poll or action
  }
}

function showSignedOut() {
  signedOut = true;
  $("#signin").hidden = false;
  for (const view of VIEWS) $(`#view-${view}`).hidden = true;
  $("#status-text").textContent = "Not signed in";
}

async function start() {
  state.onSignedOut = showSignedOut;
  initEndpoints(editEndpoint, showStatus);
  initEditor(editorDone);
  initGeneral();
  initClaude();
  initDoctor();
  $(".sidebar").addEventListener("click", onNavClick);
  $("#notray-ok").addEventListener("click", () => { $("#notray").hidden = true; });
  initUsage();
  try {
    await loadConfig();
    showStatus(await loadEndpoints());
  } catch (error) {
    if (!signedOut) toast(error.message);
    return;
  }
  window.addEventListener("hashchange", route);
  window.addEventListener("beforeunload", (event) => {
    if (editorDirty()) event.preventDefault();
  });
  await route();
  setInterval(poll, POLL_MS);
}

start();
