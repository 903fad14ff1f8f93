// Trovato API docs: fetch openapi.json and render operations and schemas with DOM APIs only
// (no innerHTML, so nothing in the document can inject markup).
"use strict";

const METHODS = ["get", "post", "put", "patch", "delete"];

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function refName(ref) {
  return ref.replace("#/components/schemas/", "");
}

function schemaLink(schema) {
  if (schema && schema.$ref) {
    const name = refName(schema.$ref);
    return el("a", { href: "#schema-" + name }, name);
  }
  if (schema && schema.oneOf) {
    const span = el("span", {}, "one of: ");
    schema.oneOf.forEach((s, i) => { if (i) span.append(", "); span.append(schemaLink(s)); });
    return span;
  }
  if (schema && schema.type === "array" && schema.items) {
    return el("span", {}, "array of ", schemaLink(schema.items));
  }
  return el("code", {}, schema ? (schema.type || JSON.stringify(schema)) : "");
}

function parameterTable(parameters) {
  if (!parameters.length) return null;
  const rows = parameters.map((p) => el("tr", {},
    el("td", {}, el("code", {}, p.name)),
    el("td", {}, p.in),
    el("td", {}, schemaLink(p.schema)),
    el("td", {}, p.required ? "yes" : ""),
    el("td", {}, p.description || "")));
  return el("table", {},
    el("thead", {}, el("tr", {}, ...["Name", "In", "Type", "Required", "Description"]
      .map((h) => el("th", {}, h)))),
    el("tbody", {}, ...rows));
}

function contentSchema(content) {
  const media = content && Object.values(content)[0];
  return media ? media.schema : null;
}

// The problem responses the document declares once (components/responses).
let sharedResponses = {};

function operation(path, method, op, shared) {
  const parameters = [...shared, ...(op.parameters || [])];
  const body = el("div", { class: "body" });
  if (op.description) body.append(el("p", {}, op.description));
  const params = parameterTable(parameters);
  if (params) body.append(el("h4", {}, "Parameters"), params);
  if (op.requestBody) {
    body.append(el("h4", {}, "Request body" + (op.requestBody.required ? "" : " (optional)")),
      el("p", {}, schemaLink(contentSchema(op.requestBody.content))));
  }
  const responses = Object.entries(op.responses || {}).map(([code, given]) => [
    code, given.$ref ? sharedResponses[given.$ref.replace("#/components/responses/", "")] || {}
      : given,
  ]).map(([code, r]) => el("tr", {},
    el("td", {}, el("code", {}, code)),
    el("td", {}, r.description || ""),
    el("td", {}, r.content ? schemaLink(contentSchema(r.content)) : "")));
  body.append(el("h4", {}, "Responses"), el("table", {}, el("tbody", {}, ...responses)));
  const details = el("details", { id: "op-" + (op.operationId || method + path),
                                  "data-search": (method + " " + path + " " +
                                                  (op.summary || "")).toLowerCase() },
    el("summary", {},
      el("span", { class: "method " + method }, method),
      el("span", { class: "path" }, path),
      el("span", { class: "summary" }, op.summary || "")),
    body);
  return details;
}

function render(doc) {
  sharedResponses = (doc.components && doc.components.responses) || {};
  document.getElementById("title").textContent = doc.info.title + " " + doc.info.version;
  document.getElementById("description").textContent = doc.info.description || "";
  const byTag = new Map();
  for (const [path, item] of Object.entries(doc.paths || {})) {
    const shared = item.parameters || [];
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const tag = (op.tags && op.tags[0]) || "Other";
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push(operation(path, method, op, shared));
    }
  }
  const operations = document.getElementById("operations");
  const toc = document.getElementById("toc");
  operations.replaceChildren();
  toc.replaceChildren();
  for (const [tag, ops] of byTag) {
    const id = "tag-" + tag.toLowerCase().replace(/[^a-z0-9]+/g, "-");
    toc.append(el("a", { href: "#" + id }, tag));
    operations.append(el("h2", { id }, tag), ...ops);
  }
  toc.append(el("a", { href: "#schemas-title" }, "Schemas"));
  const schemas = document.getElementById("schemas");
  schemas.replaceChildren(el("h2", { id: "schemas-title" }, "Schemas"));
  const all = (doc.components && doc.components.schemas) || {};
  for (const name of Object.keys(all).sort()) {
    const schema = all[name];
    schemas.append(el("details", { id: "schema-" + name, "data-search": name.toLowerCase() },
      el("summary", {}, el("span", { class: "path" }, name),
        el("span", { class: "summary" }, schema.description || "")),
      el("div", { class: "body" }, el("pre", {}, JSON.stringify(schema, null, 2)))));
  }
}

function applyFilter(text) {
  const needle = text.trim().toLowerCase();
  for (const node of document.querySelectorAll("[data-search]")) {
    node.classList.toggle("hidden", needle !== "" &&
                          !node.getAttribute("data-search").includes(needle));
  }
}

function openFromHash() {
  const target = location.hash && document.getElementById(location.hash.slice(1));
  if (target && target.tagName === "DETAILS") target.open = true;
}

async function main() {
  const operations = document.getElementById("operations");
  try {
    const response = await fetch("/api/v1/openapi.json", { credentials: "same-origin",
                                                            headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error("HTTP " + response.status);
    render(await response.json());
    openFromHash();
  } catch (error) {
    operations.replaceChildren(el("p", { class: "error" },
      "Could not load the API description: " + error.message));
  }
  document.getElementById("filter").addEventListener("input", (e) => applyFilter(e.target.value));
  window.addEventListener("hashchange", openFromHash);
}

document.addEventListener("DOMContentLoaded", main);
