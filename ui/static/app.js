// The settings page: sections by URL hash, live status, and polling while visible.
import { loadConfig, loadEndpoints, state } from "./api.js";
import { refreshActivity } from "./activity.js";
import { initClaude, showClaude } from "./claude.js";
import { $, $$, toast } from "./dom.js";
import { initEditor, openEditor } from "./editor.js";
import { initEndpoints, refreshEndpoints } from "./endpoints.js";
import { initGeneral, showGeneral } from "./general.js";
import { initUsage, showUsage } from "./usage.js";

const VIEWS = ["endpoints", "editor", "general", "claude", "activity", "usage"];
const POLL_MS = 2000;
let current = "endpoints";
let signedOut = false;

function showView(name) {
  current = VIEWS.includes(name) ? name : "endpoints";
  for (const view of VIEWS) $(`#view-${view}`).hidden = view !== current;
  const nav = current === "editor" ? "endpoints" : current;
  for (const link of $$(".sidebar a")) {
    if (link.dataset.nav === nav) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

async function route() {
  const name = location.hash.slice(1) || "endpoints";
  showView(name);
  try {
    if (current === "general") showGeneral();
    if (current === "claude") await showClaude();
    if (current === "activity") await refreshActivity();
    if (current === "endpoints") await refreshEndpoints();
    if (current === "usage") await showUsage();
  } catch (error) {
    toast(error.message);
  }
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

async function poll() {
  if (signedOut || document.hidden) return;
  try {
    if (current === "activity") await refreshActivity();
    if (current === "endpoints") await refreshEndpoints();
    else await refreshStatusOnly();
  } catch {
    // shown by the next successful poll or action
  }
}

async function refreshStatusOnly() {
  const data = await loadEndpoints();
  $("#status").dataset.state = data.status;
  $("#status-text").textContent = `${data.reason} · ${data.url}`;
}

function showSignedOut() {
  signedOut = true;
  $("#signin").hidden = false;
  for (const view of VIEWS) $(`#view-${view}`).hidden = true;
  $("#status-text").textContent = "Not signed in";
}

async function start() {
  state.onSignedOut = showSignedOut;
  initEndpoints(editEndpoint);
  initEditor(editorDone);
  initGeneral();
  initClaude();
  initUsage();
  try {
    const data = await loadConfig();
    const problem = $("#file-problem");
    problem.textContent = data.problem;
    problem.hidden = !data.problem;
  } catch (error) {
    if (!signedOut) toast(error.message);
    return;
  }
  window.addEventListener("hashchange", route);
  await route();
  setInterval(poll, POLL_MS);
}

start();
