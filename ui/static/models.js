// The provider's own models as suggestions in the model map's "Send as" boxes, fetched on
// demand with the endpoint's key (GET endpoints/NAME/models).
import { api, enc } from "./api.js";
import { $, h } from "./dom.js";

let current = null;

export function initModelList() {
  const button = h("button", { type: "button", id: "load-models", class: "small",
    text: "Load the provider's models", onclick: load });
  const status = h("span", { id: "models-status", class: "hint", role: "status" });
  $("#add-model").after(" ", button, " ", status, h("datalist", { id: "provider-models" }));
}

export function resetModelList(name) {
  current = name;
  $("#provider-models").replaceChildren();
  $("#load-models").hidden = !name;
  $("#models-status").textContent = name ? "" : "Save the endpoint to load its model list.";
}

async function load() {
  $("#models-status").textContent = "Loading…";
  try {
    const data = await api("GET", `endpoints/${enc(current)}/models`);
    $("#provider-models").replaceChildren(...data.models.map((id) => h("option", { value: id })));
    $("#models-status").textContent = data.models.length
      ? `${data.models.length} models: a "Send as" box now suggests them.`
      : "The provider lists no models.";
  } catch (error) {
    $("#models-status").textContent = error.message;
  }
}
