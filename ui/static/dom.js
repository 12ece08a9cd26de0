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

export async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = h("textarea", { value: text, readonly: true, style: "position:fixed;opacity:0" });
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  const label = button.textContent;
  button.textContent = "Copied";
  setTimeout(() => { button.textContent = label; }, 1500);
}

export function ago(seconds) {
  const date = new Date(seconds * 1000);
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}
