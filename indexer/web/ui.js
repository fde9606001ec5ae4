// Small DOM and formatting helpers shared by the views: elements, chips, item tiles, errors.

/** An element with attributes (on* become listeners) and children (strings become text). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

/** JSON from the API; a failed answer throws its {"error"} message. */
export async function api(path, body) {
  const init = body === undefined ? {} :
    { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const response = await fetch(path, init);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || `${response.status} ${response.statusText}`);
  return data;
}

/** Seconds as m:ss (or h:mm:ss). */
export function clock(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const hms = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  const pad = (n) => String(n).padStart(2, "0");
  return hms[0] ? `${hms[0]}:${pad(hms[1])}:${pad(hms[2])}` : `${hms[1]}:${pad(hms[2])}`;
}

/** The chips of a card: kind, duration, tempo, key, mood, then top objects and tags. */
export function chips(card) {
  const list = [[card.kind, "kind"]];
  if (card.duration_s) list.push([clock(card.duration_s), "time"]);
  if (card.tempo_bpm) list.push([`${Math.round(card.tempo_bpm)} BPM`, "tempo"]);
  if (card.key) list.push([card.key, "key"]);
  if (card.mood) list.push([card.mood, `mood mood-${card.mood}`]);
  for (const o of card.objects || []) list.push([o, "object"]);
  for (const t of card.tags || []) list.push([t, "tag"]);
  return el("ul", { class: "chips" }, list.map(([text, cls]) => el("li", { class: `chip ${cls}` }, text)));
}

const GLYPHS = { audio: "♪", video: "▶", text: "✎" };

/** A thumbnail, or a tidy placeholder for items without one (audio, catalog text). */
export function picture(card) {
  if (card.thumbnail) {
    return el("img", { class: "thumb", src: `/thumbnails/${card.id}`, alt: "", loading: "lazy" });
  }
  return el("div", { class: `thumb placeholder kind-${card.kind}`, "aria-hidden": "true" }, GLYPHS[card.kind] || "•");
}

/** A grid tile linking to the item page; `extra` (a reason, buttons) goes under the chips. */
export function tile(card, ...extra) {
  return el("article", { class: "tile", "data-id": card.id },
    el("a", { href: `#/item/${card.id}`, class: "tile-link" }, picture(card), el("h3", {}, card.title)),
    chips(card), ...extra);
}

/** A hit's reason line, with its score. */
export function reason(hit) {
  return el("p", { class: "reason" }, el("span", { class: "score" }, hit.score.toFixed(2)), " ", hit.reason);
}

/** An error message in place of a view's content. */
export function failure(error) {
  return el("p", { class: "error", role: "alert" }, String(error.message || error));
}
