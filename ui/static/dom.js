// Small DOM helpers: build elements without innerHTML, show errors next to fields.

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) {
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return el;
}

let toastTimer = 0;
export function toast(message) {
  const el = $("#toast");
  el.textContent = message;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 3500);
}

export function clearErrors(form) {
  for (const el of $$(".field-error", form)) el.textContent = "";
  for (const el of $$("[aria-invalid]", form)) el.removeAttribute("aria-invalid");
}

// Show every error under its own field at once: `errors` maps a data-error name to a
// message; an input can be given instead of a name (a model-map row, say) to mark that input.
// Returns whether there were any; the first marked field gets the focus.
export function showErrors(form, errors, generalEl) {
  let first = null;
  for (const { field, message, input } of errors) {
    const slot = field ? $(`[data-error="${CSS.escape(field)}"]`, form) : null;
    const target = slot || generalEl;
    target.textContent = target.textContent ? `${target.textContent} ${message}` : message;
    const marked = input || slot?.parentElement?.querySelector("input:not([type=checkbox]), select");
    if (marked) marked.setAttribute("aria-invalid", "true");
    first ||= marked || target;
  }
  if (first) {
    first.scrollIntoView({ block: "nearest" });
    if (first.matches("input, select")) first.focus();
  }
  return errors.length > 0;
}

// An in-page question (never window.confirm, whose native dialog is titled with the URL).
// Resolves true for the confirming button, false for Cancel, Escape or a click outside.
export function ask(message, { yes = "OK", no = "Cancel", danger = false, detail = "" } = {}) {
  const dialog = $("#ask");
  $("#ask-text").textContent = message;
  $("#ask-detail").textContent = detail;
  $("#ask-detail").hidden = !detail;
  const yesButton = $("#ask-yes");
  yesButton.textContent = yes;
  yesButton.className = danger ? "danger-solid" : "primary";
  $("#ask-no").textContent = no;
  return new Promise((resolve) => {
    const finish = (answer) => {
      dialog.removeEventListener("close", onClose);
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    const onClose = () => finish(false);
    dialog.addEventListener("close", onClose);
    yesButton.onclick = () => finish(true);
    $("#ask-no").onclick = () => finish(false);
    dialog.showModal();
    $("#ask-no").focus();
  });
}

// Show an API error next to the field it names. `fieldOf` turns the API's path
// (e.g. "endpoints[2].base_url") into the form's data-error name, or "" for the form itself.
export function showError(form, error, fieldOf, generalEl) {
  const field = fieldOf(error.field || "");
  const slot = field ? $(`[data-error="${CSS.escape(field)}"]`, form) : null;
  const target = slot || generalEl;
  target.textContent = error.message;
  const input = slot?.parentElement?.querySelector("input, select");
  if (input) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
  } else {
    target.scrollIntoView({ block: "nearest" });
  }
}

export async function copyText(text, button, label = "Copied") {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = h("textarea", { value: text, readonly: true, style: "position:fixed;opacity:0" });
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  const before = button.textContent;
  button.textContent = label;
  setTimeout(() => { button.textContent = before; }, 1500);
}

export function ago(seconds) {
  const date = new Date(seconds * 1000);
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}
