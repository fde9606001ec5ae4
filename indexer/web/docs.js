// An offline API reference drawn from /openapi.json (Swagger UI would load from a CDN).
import { api, el } from "./ui.js";

const spec = await api("/openapi.json");
const main = document.getElementById("docs");
const schemaName = (ref) => (ref || "").split("/").pop();

/** One operation: method, path, summary, parameters and body schema. */
function operation(path, method, op) {
  const params = (op.parameters || []).map((p) => el("li", {}, el("code", {}, p.name), ` (${p.in}`,
    p.required ? ", required" : "", p.schema?.maximum !== undefined ? `, at most ${p.schema.maximum}` : "", ")"));
  const body = op.requestBody?.content?.["application/json"]?.schema?.$ref;
  const fields = body ? Object.entries(spec.components.schemas[schemaName(body)].properties || {}) : [];
  return el("section", { class: "panel" },
    el("h2", {}, el("code", {}, `${method.toUpperCase()} ${path}`)), el("p", {}, op.summary || ""),
    params.length ? el("ul", {}, params) : null,
    fields.length ? el("p", {}, "JSON body: ", fields.map(([n]) => el("code", {}, n)).flatMap((c) => [c, " "])) : null);
}

main.replaceChildren(el("h1", {}, `${spec.info.title} HTTP API`),
  el("p", { class: "muted" }, "Errors are JSON {\"error\": \"…\"} with a status code. Full schema: ",
    el("a", { href: "/openapi.json" }, "/openapi.json"), "."),
  ...Object.entries(spec.paths).flatMap(([path, ops]) => Object.entries(ops).map(([m, op]) => operation(path, m, op))));
