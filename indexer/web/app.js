// The page's router and its library view (grid, filters, search); item.js and discover.js hold the others.
import { api, el, failure, reason, tile } from "./ui.js";
import { showItem } from "./item.js";
import { showDiscover } from "./discover.js";

const view = document.getElementById("view");
const PAGE = 48;
const MOODS = ["happy", "energetic", "tense", "sad", "calm"];

/** The hash route: "#/item/ID?x=1" -> {parts: ["item", "ID"], params}. */
function route() {
  const [path, query] = location.hash.replace(/^#/, "").split("?");
  return { parts: path.split("/").filter(Boolean), params: new URLSearchParams(query || "") };
}

/** Draw the view the hash names, marking its nav link as current. */
async function render() {
  const { parts, params } = route();
  const section = parts[0] === "discover" ? "discover" : "library";
  for (const link of document.querySelectorAll("[data-nav]")) {
    link.toggleAttribute("aria-current", link.dataset.nav === section && parts[0] !== "item");
  }
  view.replaceChildren(el("p", { class: "muted" }, "Loading…"));
  try {
    if (parts[0] === "item" && parts[1]) await showItem(view, decodeURIComponent(parts[1]));
    else if (parts[0] === "discover") await showDiscover(view);
    else await showLibrary(params);
  } catch (error) {
    view.replaceChildren(failure(error));
  }
  window.scrollTo(0, 0);
}

/** A select of `options` with an "any" first entry. */
function select(name, label, options, current) {
  return el("label", { class: "field" }, el("span", {}, label),
    el("select", { name }, el("option", { value: "" }, "any"),
      options.map((o) => el("option", { value: o, selected: o === current }, o))));
}

/** The filter bar; submitting it rewrites the hash (so back and reload keep the filters). */
function filterBar(params) {
  const form = el("form", { class: "filters", role: "search" },
    el("label", { class: "field grow" }, el("span", {}, "Search"),
      el("input", { name: "q", type: "search", value: params.get("q") || "", placeholder: "calm piano, a cat, words said…" })),
    select("kind", "Kind", ["audio", "video", "text"], params.get("kind")),
    select("mood", "Mood", MOODS, params.get("mood")),
    el("button", { type: "submit" }, "Search"));
  form.addEventListener("change", (e) => e.target.tagName === "SELECT" && form.requestSubmit());
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = new URLSearchParams([...new FormData(form)].filter(([, v]) => v.trim()));
    location.hash = `#/?${chosen}`;
  });
  return form;
}

/** The grid: every item page by page, or the answers to a search with their reasons. */
async function showLibrary(params) {
  const filters = new URLSearchParams([...params].filter(([k]) => k === "kind" || k === "mood"));
  const grid = el("div", { class: "grid", id: "grid" });
  const summary = el("p", { class: "muted summary" });
  view.replaceChildren(filterBar(params), summary, grid);
  const q = params.get("q");
  if (q) {
    const answer = await api(`/api/search?${new URLSearchParams({ q, ...Object.fromEntries(filters) })}`);
    summary.textContent = `${answer.results.length} results for “${q}”`;
    grid.append(...answer.results.map((hit) => tile(hit.card, reason(hit))));
    if (!answer.results.length) grid.append(el("p", { class: "muted" }, "Nothing matches."));
    return;
  }
  let offset = 0;
  const more = el("button", { class: "more", type: "button" }, "Show more");
  const page = async () => {
    const data = await api(`/api/items?${filters}&offset=${offset}&limit=${PAGE}`);
    offset += data.items.length;
    const counts = Object.entries(data.by_kind).map(([kind, n]) => `${n} ${kind}`).join(" · ");
    const all = Object.values(data.by_kind).reduce((a, b) => a + b, 0);
    summary.textContent = filters.size ? `${data.total} of ${all} items match` : `${all} items: ${counts}`;
    grid.append(...data.items.map((c) => tile(c)));
    if (!data.total) grid.append(el("p", { class: "muted" }, "No items match these filters."));
    more.hidden = offset >= data.total;
  };
  more.addEventListener("click", () => page().catch((e) => more.replaceWith(failure(e))));
  view.append(more);
  await page();
}

window.addEventListener("hashchange", render);
render();
