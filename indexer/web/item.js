// The item page: player, figures, scene timeline, transcript and review tags, and "More like this".
import { api, clock, el, failure, reason, tile } from "./ui.js";

/** A labelled figure such as "Tempo 140 BPM"; a 0..1 `meter` also draws a bar. */
function figure(label, value, meter) {
  return el("div", { class: "figure" }, el("dt", {}, label), el("dd", {}, value,
    meter === undefined ? null : el("meter", { min: 0, max: 1, value: meter, title: meter.toFixed(2) })));
}

/** Tempo, metre, key, mood, energy and the other 0..1 descriptors of the audio analysis. */
function figures(audio, text) {
  const list = [];
  if (audio) {
    list.push(figure("Tempo", `${Math.round(audio.tempo_bpm)} BPM`), figure("Metre", `${audio.time_signature}/4`),
      figure("Key", `${audio.key} ${audio.mode}`), figure("Mood", audio.mood),
      ...["energy", "valence", "danceability", "acousticness"].map((k) => figure(k[0].toUpperCase() + k.slice(1),
        audio[k].toFixed(2), audio[k])),
      figure("Loudness", `${audio.loudness_lufs.toFixed(1)} LUFS`));
  }
  if (text && text.sentiment !== undefined) list.push(figure("Review sentiment", `${text.mood || ""} ${text.sentiment.toFixed(2)}`, (text.sentiment + 1) / 2));
  return list.length ? el("dl", { class: "figures" }, list) : null;
}

/** The scenes of a video as a proportional bar; each scene names its objects and seeks on click. */
function timeline(video, seek) {
  if (!video || !video.keyframes || !video.keyframes.length) return null;
  const total = video.duration_s || video.keyframes.at(-1).end_s;
  const scenes = new Map();
  for (const k of video.keyframes) {
    const s = scenes.get(k.scene) || { start: k.start_s, end: k.end_s, labels: new Set() };
    k.objects.forEach((o) => s.labels.add(o.label));
    scenes.set(k.scene, s);
  }
  const blocks = [...scenes.values()].map((s, i) => {
    const names = [...s.labels].join(", ") || "no objects";
    return el("button", { class: `scene scene-${i % 4}`, type: "button", style: `flex-grow:${Math.max(s.end - s.start, 0.1) / total}`,
      title: `${clock(s.start)}–${clock(s.end)}: ${names}`, onclick: () => seek(s.start) },
      el("span", { class: "scene-time" }, clock(s.start)), el("span", { class: "scene-objects" }, names));
  });
  return el("section", { class: "panel" }, el("h2", {}, "Scenes"), el("div", { class: "timeline" }, blocks));
}

/** Transcript segments, each with a time button that seeks the player. */
function transcript(speech, seek) {
  if (!speech || !speech.segments || !speech.segments.length) return null;
  return el("section", { class: "panel" }, el("h2", {}, "Transcript"),
    el("ol", { class: "transcript" }, speech.segments.map(([start, , words]) => el("li", {},
      el("button", { class: "time", type: "button", onclick: () => seek(start) }, clock(start)), " ", words))));
}

/** Review tags as chips, and the reviews themselves. */
function reviews(text) {
  if (!text) return null;
  return el("section", { class: "panel" }, el("h2", {}, "Reviews"),
    el("ul", { class: "chips" }, (text.tags || []).slice(0, 16).map((t) => el("li", { class: "chip tag" }, t.tag))),
    (text.reviews || []).slice(0, 3).map((r) => el("blockquote", {}, r.text)));
}

/** Render item `id` into `view`. */
export async function showItem(view, id) {
  const record = await api(`/api/items/${encodeURIComponent(id)}`);
  const title = record.description?.title || (record.path || "").split("/").pop() || record.catalog_id || id;
  const tag = record.kind === "video" ? "video" : record.kind === "audio" ? "audio" : null;
  const player = tag && el(tag, { id: "player", controls: true, preload: "metadata", src: `/media/${record.id}`,
    poster: record.video?.thumbnail_path ? `/thumbnails/${record.id}` : null });
  const seek = (t) => { if (player) { player.currentTime = t; player.play().catch(() => {}); } };
  const similar = el("div", { class: "grid", id: "similar" });
  const more = el("button", { type: "button", id: "more-like-this", onclick: async () => {
    more.disabled = true;
    try {
      const answer = await api(`/api/items/${record.id}/similar`);
      similar.replaceChildren(...answer.results.map((hit) => tile(hit.card, reason(hit))));
      if (!answer.results.length) similar.append(el("p", { class: "muted" }, "Nothing else is like it yet."));
    } catch (error) {
      similar.replaceChildren(failure(error));
    }
    more.disabled = false;
  } }, "More like this");
  view.replaceChildren(el("article", { class: "item" },
    el("p", {}, el("a", { href: "#/", class: "back" }, "← Library")),
    el("h1", {}, title), el("p", { class: "muted path" }, record.path || `catalog item ${record.catalog_id || ""}`),
    player, figures(record.audio, record.text), timeline(record.video, seek), transcript(record.speech, seek),
    reviews(record.text), record.description ? el("p", { class: "muted description" }, record.description.description) : null,
    el("section", { class: "panel" }, more, similar)));
}
