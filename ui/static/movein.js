// Moving in: providers from cc-switch, claude-code-router or Claude Code's settings found on
// this machine (the user sees them and picks), and the whole config out and in, without keys.
import { api, loadConfig } from "./api.js";
import { $, copyText, h } from "./dom.js";

export function initMovingIn() {
  $("#moving-in").replaceChildren(
    h("h2", { class: "section", text: "Move in from other tools" }),
    h("p", { class: "hint", text: "Providers set up in cc-switch, claude-code-router or Claude Code's settings.json become endpoints here; their keys go to the OS keyring." }),
    h("button", { type: "button", id: "import-look", text: "Look for them", onclick: showSources }),
    h("div", { id: "import-sources" }),
    h("p", { id: "import-result", role: "status" }),
    h("h2", { class: "section", text: "Configuration for another machine" }),
    h("p", { class: "hint", text: "One file with every setting but the keys." }),
    h("button", { type: "button", id: "export-config", text: "Export", onclick: exportConfig }),
    " ",
    h("label", { class: "button-like" }, "Import a file… ",
      h("input", { type: "file", id: "import-config", accept: ".yaml,.yml,.txt", onchange: importConfig })),
    h("div", { id: "export-box" }),
    h("p", { id: "transfer-result", role: "status" }),
  );
}

async function showSources() {
  $("#import-result").textContent = "";
  const data = await api("GET", "import/sources");
  $("#import-sources").replaceChildren(...(data.sources.length
    ? data.sources.map(sourceCard)
    : [h("p", { class: "hint", text: "Nothing from cc-switch, claude-code-router or Claude Code was found here." })]));
}

function sourceCard(source) {
  if (source.error) {
    return h("div", { class: "card" }, h("strong", { text: source.tool }), h("p", { class: "field-error", text: source.error }));
  }
  const rows = source.providers.map((p) => h("label", { class: "import-row" },
    h("input", { type: "checkbox", value: p.name, disabled: Boolean(p.skipped), checked: !p.skipped }),
    ` ${p.name} `,
    h("span", { class: "hint", text: p.skipped ? `— ${p.skipped}` : `— ${p.base_url} (${p.format}, key ${keyText(p)})` })));
  const card = h("div", { class: "card import-source", "data-path": source.path },
    h("strong", { text: source.tool }), h("p", { class: "hint", text: source.path }), ...rows);
  card.append(h("button", { type: "button", class: "primary", text: "Import selected",
    onclick: () => importPicked(source.path, card) }));
  return card;
}

function keyText(provider) {
  if (typeof provider.key === "string") return provider.key;
  return provider.key ? "set" : provider.key_source || "none";
}

async function importPicked(path, card) {
  const pick = [...card.querySelectorAll("input:checked")].map((box) => box.value);
  try {
    const answer = await api("POST", "import", { path, pick });
    await loadConfig();
    $("#import-result").textContent = `Imported ${answer.imported.join(", ")}. They are in the Endpoints list.`;
  } catch (error) {
    $("#import-result").textContent = error.message;
  }
}

async function exportConfig() {
  const data = await api("GET", "config/export");
  const text = h("textarea", { readonly: true, rows: "10", "aria-label": "Exported configuration" });
  text.value = data.text;
  $("#export-box").replaceChildren(text,
    h("button", { type: "button", class: "small", text: "Copy", onclick: (e) => copyText(data.text, e.target) }));
}

async function importConfig(event) {
  const file = event.target.files[0];
  if (!file) return;
  try {
    const answer = await api("POST", "config/import", { text: await file.text() });
    await loadConfig();
    const keys = answer.need_keys.length ? ` Set the keys of ${answer.need_keys.join(", ")} in Endpoints.` : "";
    $("#transfer-result").textContent = `Imported ${file.name}.${keys}`;
  } catch (error) {
    $("#transfer-result").textContent = error.message;
  }
  event.target.value = "";
}
