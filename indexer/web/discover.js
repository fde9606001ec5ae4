// The cold-start page: pick liked items or type a wish, get recommendations; like/skip feeds back at once.
import { api, el, failure, reason, tile } from "./ui.js";

/** This browser's visitor name for feedback, made once and kept in localStorage. */
function visitor() {
  let name = localStorage.getItem("mediaindex.visitor");
  if (!name) {
    name = `visitor-${crypto.getRandomValues(new Uint32Array(1))[0].toString(36)}`;
    localStorage.setItem("mediaindex.visitor", name);
  }
  return name;
}

/** Render the discover page into `view`. */
export async function showDiscover(view) {
  const user = visitor();
  const picked = new Set();
  let hasHistory = localStorage.getItem("mediaindex.history") === user;
  const wish = el("input", { type: "text", name: "wish", placeholder: "e.g. something calm with piano", maxlength: 500 });
  const results = el("div", { class: "grid", id: "recommendations" });
  const status = el("p", { class: "muted", id: "rec-status" });

  const recommend = async () => {
    const body = { like: [...picked], text: wish.value.trim() || null, user: hasHistory ? user : null, limit: 12 };
    if (!body.like.length && !body.text && !body.user) {
      status.textContent = "Pick something you like or say what you want first.";
      return;
    }
    status.textContent = "Finding…";
    try {
      const answer = await api("/api/recommend", body);
      results.replaceChildren(...answer.results.map((hit) => tile(hit.card, reason(hit), buttons(hit.id))));
      status.textContent = answer.results.length ? `${answer.results.length} for you` : "Nothing new to recommend.";
    } catch (error) {
      results.replaceChildren(failure(error));
      status.textContent = "";
    }
  };

  const feedback = async (item, event) => {
    try {
      await api("/api/feedback", { user, item, event });
      hasHistory = true;
      localStorage.setItem("mediaindex.history", user);
      await recommend();
    } catch (error) {
      status.replaceChildren(failure(error));
    }
  };
  const buttons = (id) => el("div", { class: "actions" },
    el("button", { type: "button", class: "like", onclick: () => feedback(id, "like") }, "Like"),
    el("button", { type: "button", class: "skip", onclick: () => feedback(id, "skip") }, "Skip"));

  const choices = await api("/api/items?limit=24");
  const pick = (card) => {
    const toggle = el("button", { type: "button", class: "pick", "aria-pressed": "false", onclick: () => {
      const on = !picked.has(card.id);
      on ? picked.add(card.id) : picked.delete(card.id);
      toggle.setAttribute("aria-pressed", String(on));
      toggle.textContent = on ? "✓ Liked" : "I like this";
    } }, "I like this");
    return tile(card, toggle);
  };
  const form = el("form", { class: "filters", onsubmit: (e) => { e.preventDefault(); recommend(); } },
    el("label", { class: "field grow" }, el("span", {}, "What do you want?"), wish),
    el("button", { type: "submit", id: "recommend" }, "Recommend"));
  view.replaceChildren(el("h1", {}, "Discover"),
    el("p", { class: "muted" }, "Pick a few things you like, or say what you want. Like or skip what comes back: ",
      "the list changes at once."),
    form, status, results,
    el("h2", {}, "Pick what you like"), el("div", { class: "grid picks" }, choices.items.map(pick)));
}
