// The review page: frames one at a time (proxy JPEG + masks as JSON), outlines drawn on a
// canvas, a timeline of tracks, and the review actions. No rules here: every change is one
// POST to /api/exports/{id}/..., and the service decides. A 409 (someone changed it first, or
// the review ended) shows the message and reloads the data.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const D = JSON.parse($("review-data").textContent);
  const CSRF = document.querySelector('meta[name="csrf-token"]').content;
  const API = `/api/exports/${encodeURIComponent(D.id)}`;
  const SCALE = D.proxy_width / D.width; // proxy px per full-resolution px
  const FRAMES = D.frames;
  const FPS = D.fps > 0 ? D.fps : 25;
  const LABEL = { 1: "face", 2: "plate", 3: "person" };
  const DECISION_TEXT = { MASK: "Mask", VISIBLE: "Leave visible", FALSE_POSITIVE: "False positive" };
  const COLOUR = { MASK: "#ff3b30", VISIBLE: "#30d158", FALSE_POSITIVE: "#a1a1a6" };
  const BAR = { MASK: "#d9534f", VISIBLE: "#2fa84f", FALSE_POSITIVE: "#8e8e93" };
  const CACHE_MAX = 40; // frames kept (blob URLs + JSON)
  const PREFETCH_PLAYING = 6;
  const MIN_BOX_PX = 4; // full-resolution px (the service refuses smaller boxes)

  const img = $("frame");
  const overlay = $("overlay");
  const octx = overlay.getContext("2d");
  const scrub = $("scrubber");
  const frameNo = $("frame-no");
  const playBtn = $("play");
  const releasedBox = $("released");
  const outlinesBox = $("outlines");
  const banner = $("banner");
  const timeline = $("timeline");
  const playhead = $("playhead");
  const list = $("track-list");
  const editList = $("edit-list");
  const statusEl = $("status");
  const timingEl = $("timing");
  const selectedInfo = $("selected-info");
  const addBtn = $("add-mode");
  const groupBtn = $("group");
  const signOffBtn = $("sign-off");
  const decisionBtns = Array.from(document.querySelectorAll("button[data-decision]"));
  const dlg = $("ask");

  // What tests and the curious read: ms since navigation to the first frame drawn, and seeks.
  const timings = (window.consoleTimings = { open_ms: null, seeks: [] });

  let data = D; // the latest review data (tracks, edits, version)
  let tracks = new Map(); // id → track
  let order = []; // track ids by first frame
  let lanes = 1;
  let current = null; // {n, frame (JSON), entry}
  let frameIndex = 0;
  let selected = null; // a track id
  const ticked = new Set();
  let playing = false;
  let showSeq = 0;
  let addMode = false;
  let drag = null; // {x0, y0, x1, y1} in proxy px while drawing
  let busy = false; // a change is in flight

  // ------------------------------------------------------------ messages

  function say(text, kind = "info") {
    statusEl.textContent = text;
    statusEl.className = `status ${kind}`;
  }

  async function getJSON(url) {
    const r = await fetch(url, { credentials: "same-origin" });
    if (r.status === 401) {
      location.href = `/login?next=${encodeURIComponent(location.pathname)}`;
      throw new Error("signed out");
    }
    const body = await r.json().catch(() => ({ error: `HTTP ${r.status}` }));
    if (!r.ok) throw Object.assign(new Error(body.error || `HTTP ${r.status}`), { status: r.status });
    return body;
  }

  async function post(path, body) {
    if (busy) return null;
    busy = true;
    try {
      const r = await fetch(`${API}${path}`, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": CSRF },
        body: JSON.stringify(body),
      });
      if (r.status === 401) {
        location.href = `/login?next=${encodeURIComponent(location.pathname)}`;
        return null;
      }
      const out = await r.json().catch(() => ({ error: `HTTP ${r.status}` }));
      if (r.ok) return out;
      const message = out.error || `HTTP ${r.status}`;
      if (r.status === 409) {
        await refresh();
        say(`${message} (the page now shows the current data)`, "error");
      } else {
        say(message, "error");
      }
      return null;
    } catch (e) {
      say(`the console did not answer: ${e.message}`, "error");
      return null;
    } finally {
      busy = false;
    }
  }

  // ------------------------------------------------------------ frames

  const cache = new Map(); // "n:view" → Promise<entry>; insertion order = least recently used first
  let shownUrl = null;

  function view() {
    return !D.may.view_original || releasedBox.checked ? "released" : "original";
  }

  function dropEntry(p) {
    p.then(
      (e) => {
        e.dropped = true;
        if (e.url !== shownUrl) URL.revokeObjectURL(e.url);
      },
      () => {},
    );
  }

  function load(n) {
    const v = view();
    const key = `${n}:${v}`;
    let p = cache.get(key);
    if (p) {
      cache.delete(key);
      cache.set(key, p);
      return p;
    }
    p = Promise.all([
      fetch(`${API}/frames/${n}.jpg?view=${v}`, { credentials: "same-origin" }).then(async (r) => {
        if (!r.ok) {
          const body = await r.json().catch(() => ({ error: `HTTP ${r.status}` }));
          throw new Error(body.error || `HTTP ${r.status}`);
        }
        return r.blob();
      }),
      getJSON(`${API}/frames/${n}`),
    ]).then(([blob, frame]) => ({ url: URL.createObjectURL(blob), frame, dropped: false }));
    p.catch(() => cache.delete(key));
    cache.set(key, p);
    while (cache.size > CACHE_MAX) {
      const [oldKey, old] = cache.entries().next().value;
      cache.delete(oldKey);
      dropEntry(old);
    }
    return p;
  }

  function clearCache() {
    for (const p of cache.values()) dropEntry(p);
    cache.clear();
  }

  function clamp(n) {
    return Math.max(0, Math.min(FRAMES - 1, Math.round(n)));
  }

  function timeText(n, tUs) {
    const s = tUs != null ? (tUs - D.t0_us) / 1e6 : n / FPS;
    const m = Math.floor(s / 60);
    return `${m}:${(s - m * 60).toFixed(2).padStart(5, "0")}`;
  }

  // Shows frame n (image and outlines together); `t0`: when the seek was asked (for timings).
  async function show(n, t0) {
    n = clamp(n);
    frameIndex = n;
    const seq = ++showSeq;
    scrub.value = String(n);
    placePlayhead(n);
    let entry;
    try {
      entry = await load(n);
    } catch (e) {
      if (seq === showSeq) say(`frame ${n}: ${e.message}`, "error");
      return;
    }
    if (seq !== showSeq) return;
    if (img.src !== entry.url) {
      img.src = entry.url;
      try {
        await img.decode();
      } catch (_) {
        /* shown when it can be */
      }
      if (seq !== showSeq) return;
    }
    const previous = current && current.entry;
    shownUrl = entry.url;
    if (previous && previous.dropped && previous.url !== shownUrl) URL.revokeObjectURL(previous.url);
    current = { n, frame: entry.frame, entry };
    drawOverlay();
    frameNo.textContent = `${n} / ${FRAMES - 1} · ${timeText(n, entry.frame.t_us)}`;
    document.body.dataset.shown = String(n);
    if (t0 !== undefined) {
      const ms = performance.now() - t0;
      timings.seeks.push({ frame: n, view: view(), ms });
      timingEl.textContent = `frame in ${ms.toFixed(0)} ms`;
    }
    prefetch(n);
  }

  function prefetch(n) {
    const ahead = playing ? PREFETCH_PLAYING : 1;
    for (let k = 1; k <= ahead && n + k < FRAMES; k++) load(n + k).catch(() => {});
    if (!playing && n > 0) load(n - 1).catch(() => {});
  }

  // ------------------------------------------------------------ outlines

  function groupOf(id) {
    const t = tracks.get(id);
    if (!t || !t.group) return new Set([id]);
    return new Set(order.filter((k) => tracks.get(k).group === t.group));
  }

  function drawOverlay() {
    octx.clearRect(0, 0, overlay.width, overlay.height);
    if (!current) return;
    banner.hidden = !current.frame.fully_masked;
    if (outlinesBox.checked) {
      const sel = selected != null ? groupOf(selected) : new Set();
      const masks = current.frame.masks.slice().sort((a, b) => sel.has(a.track_id) - sel.has(b.track_id));
      for (const m of masks) drawMask(m, sel.has(m.track_id));
    }
    if (drag) {
      const x = Math.min(drag.x0, drag.x1);
      const y = Math.min(drag.y0, drag.y1);
      octx.setLineDash([4, 3]);
      octx.lineWidth = 2;
      octx.strokeStyle = "#ffd60a";
      octx.strokeRect(x, y, Math.abs(drag.x1 - drag.x0), Math.abs(drag.y1 - drag.y0));
      octx.setLineDash([]);
    }
  }

  function drawMask(m, isSelected) {
    const [x0, y0, x1, y1] = m.box.map((v) => v * SCALE);
    const w = x1 - x0;
    const h = y1 - y0;
    const shownAnyway = m.decision === "MASK" && !m.masked; // the request's subject, or not masked by policy
    const colour = shownAnyway ? COLOUR.VISIBLE : COLOUR[m.decision] || COLOUR.MASK;
    if (isSelected) {
      octx.setLineDash([]);
      octx.lineWidth = 5;
      octx.strokeStyle = "rgba(255, 214, 10, 0.9)";
      octx.strokeRect(x0 - 1, y0 - 1, w + 2, h + 2);
    }
    octx.lineWidth = isSelected ? 2.5 : 1.5;
    octx.setLineDash(m.decision === "MASK" ? (shownAnyway ? [2, 3] : []) : [6, 4]);
    octx.strokeStyle = colour;
    octx.strokeRect(x0, y0, w, h);
    octx.setLineDash([]);
    if (m.track_id) {
      const text = `#${m.track_id}`;
      octx.font = "11px system-ui, sans-serif";
      const tw = octx.measureText(text).width + 6;
      const ty = y0 > 14 ? y0 - 14 : y1;
      octx.fillStyle = "rgba(0, 0, 0, 0.65)";
      octx.fillRect(x0, ty, tw, 14);
      octx.fillStyle = isSelected ? "#ffd60a" : colour;
      octx.fillText(text, x0 + 3, ty + 11);
    }
  }

  // ------------------------------------------------------------ timeline

  function layoutLanes() {
    const ends = [];
    for (const id of order) {
      const t = tracks.get(id);
      let lane = ends.findIndex((end) => end < t.first - 1);
      if (lane < 0) {
        lane = ends.length;
        ends.push(t.last);
      } else {
        ends[lane] = t.last;
      }
      t._lane = lane;
    }
    lanes = Math.max(1, ends.length);
  }

  function laneHeight() {
    return Math.max(3, Math.min(12, Math.floor(180 / lanes)));
  }

  function drawTimeline() {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(100, timeline.clientWidth);
    const lh = laneHeight();
    const h = lanes * lh + 8;
    timeline.width = Math.round(w * dpr);
    timeline.height = Math.round(h * dpr);
    timeline.style.height = `${h}px`;
    const c = timeline.getContext("2d");
    c.setTransform(dpr, 0, 0, dpr, 0, 0);
    c.fillStyle = "#1c1c1e";
    c.fillRect(0, 0, w, h);
    const fx = (f) => (f / FRAMES) * w;
    c.fillStyle = "#ff453a";
    for (const f of data.fully_masked_frames) c.fillRect(fx(f), 0, Math.max(1, w / FRAMES), 3);
    const sel = selected != null ? groupOf(selected) : new Set();
    for (const id of order) {
      const t = tracks.get(id);
      const x = fx(t.first);
      const bw = Math.max(2, fx(t.last + 1) - x);
      const y = 4 + t._lane * lh;
      c.fillStyle = BAR[t.decision] || BAR.MASK;
      c.fillRect(x, y, bw, lh - 1);
      if (t.added) {
        c.fillStyle = "#ffffff";
        c.fillRect(x, y, 2, lh - 1);
      }
      if (sel.has(id)) {
        c.strokeStyle = "#ffd60a";
        c.lineWidth = 2;
        c.strokeRect(x - 1, y - 1, bw + 2, lh + 1);
      }
    }
    placePlayhead(frameIndex);
  }

  function placePlayhead(n) {
    playhead.style.left = `${((n + 0.5) / FRAMES) * 100}%`;
  }

  timeline.addEventListener("click", (ev) => {
    const rect = timeline.getBoundingClientRect();
    const x = ev.clientX - rect.left;
    const y = ev.clientY - rect.top;
    const f = (x / rect.width) * FRAMES;
    const lane = Math.floor((y - 4) / laneHeight());
    const slack = (4 / rect.width) * FRAMES; // 4 px either side
    const hit = order.find((id) => {
      const t = tracks.get(id);
      return t._lane === lane && t.first - slack <= f && f <= t.last + 1 + slack;
    });
    if (hit !== undefined) select(hit, true);
    else show(f, performance.now());
  });

  // ------------------------------------------------------------ tracks

  function trackText(t) {
    const span = `${timeText(t.first)}–${timeText(t.last)}`;
    const score = t.added ? `drawn by ${t.by || "a reviewer"}` : `score ${t.score.toFixed(2)}`;
    return `${LABEL[t.label] || t.label} · ${span} · ${score}`;
  }

  function renderTracks() {
    const frag = document.createDocumentFragment();
    for (const id of order) {
      const t = tracks.get(id);
      const li = document.createElement("li");
      li.dataset.track = String(id);
      li.className = `track decision-${t.decision}${id === selected ? " selected" : ""}`;
      if (D.may.review) {
        const box = document.createElement("input");
        box.type = "checkbox";
        box.className = "tick";
        box.title = "tick to group";
        box.checked = ticked.has(id);
        box.addEventListener("click", (ev) => {
          ev.stopPropagation();
          if (box.checked) ticked.add(id);
          else ticked.delete(id);
          updateButtons();
        });
        li.append(box);
      }
      if (D.may.view_original) {
        const th = document.createElement("img");
        th.className = "thumb";
        th.loading = "lazy";
        th.alt = "";
        th.src = `${API}/tracks/${id}/thumb.jpg`;
        li.append(th);
      } else {
        const ph = document.createElement("span");
        ph.className = "thumb none";
        li.append(ph);
      }
      const body = document.createElement("div");
      body.className = "body";
      const head = document.createElement("div");
      head.className = "head";
      const name = document.createElement("b");
      name.textContent = `#${id}`;
      const badge = document.createElement("span");
      badge.className = `badge decision-${t.decision}`;
      badge.textContent = t.decision.replace("_", " ").toLowerCase();
      head.append(name, " ", badge);
      if (t.group) {
        const g = document.createElement("span");
        g.className = "badge group";
        g.textContent = `person ${t.group}`;
        head.append(" ", g);
      }
      const info = document.createElement("div");
      info.className = "muted small";
      info.textContent = trackText(t);
      body.append(head, info);
      if (t.reason) {
        const why = document.createElement("div");
        why.className = "small why";
        why.textContent = `“${t.reason}” — ${t.by}`;
        body.append(why);
      }
      li.append(body);
      li.addEventListener("click", () => select(id, true));
      frag.append(li);
    }
    list.replaceChildren(frag);
  }

  function renderEdits() {
    $("version").textContent = `(version ${data.version})`;
    const frag = document.createDocumentFragment();
    for (const e of data.edits.slice().reverse()) {
      const li = document.createElement("li");
      const when = new Date(e.at).toLocaleTimeString();
      const what = e.detail && e.detail.decision ? `${e.action} → ${e.detail.decision}` : e.action;
      const ids = e.track_ids.length ? ` #${e.track_ids.join(", #")}` : "";
      li.textContent = `${when} ${e.actor}: ${what}${ids} — ${e.reason}`;
      frag.append(li);
    }
    editList.replaceChildren(frag);
  }

  function select(id, seek) {
    selected = id != null && tracks.has(id) ? id : null;
    for (const li of list.querySelectorAll("li.selected")) li.classList.remove("selected");
    if (selected != null) {
      const li = list.querySelector(`li[data-track="${selected}"]`);
      if (li) {
        li.classList.add("selected");
        scrollIntoList(li);
      }
      const t = tracks.get(selected);
      selectedInfo.textContent =
        `#${t.id} ${LABEL[t.label] || t.label}, frames ${t.first}–${t.last}: ` +
        `${t.decision.replace("_", " ").toLowerCase()} (version ${t.version})`;
      selectedInfo.className = "";
    } else {
      selectedInfo.textContent = "No track selected: click one (list, timeline or frame).";
      selectedInfo.className = "muted";
    }
    updateButtons();
    drawTimeline();
    drawOverlay();
    if (seek && selected != null) {
      const t = tracks.get(selected);
      const target = t.first <= frameIndex && frameIndex <= t.last ? frameIndex : t.thumb_frame;
      if (target !== frameIndex) show(target, performance.now());
    }
  }

  // Scrolls the track list (never the page) so that `li` shows below the sticky tools.
  function scrollIntoList(li) {
    const box = list.closest("aside");
    const tools = box.querySelector(".track-tools");
    const top = li.getBoundingClientRect().top - box.getBoundingClientRect().top;
    const bottom = top + li.offsetHeight;
    const visibleTop = tools ? tools.offsetHeight : 0;
    if (top < visibleTop) box.scrollTop += top - visibleTop;
    else if (bottom > box.clientHeight) box.scrollTop += bottom - box.clientHeight;
  }

  function updateButtons() {
    const open = data.job.state === "IN_REVIEW";
    for (const b of decisionBtns) b.disabled = !open || selected == null;
    if (groupBtn) groupBtn.disabled = !open || ticked.size < 2;
    if (signOffBtn) signOffBtn.disabled = !open;
    if (addBtn) addBtn.disabled = !open;
  }

  function adopt(next) {
    data = next;
    tracks = new Map(next.tracks.map((t) => [t.id, t]));
    order = next.tracks.map((t) => t.id).sort((a, b) => tracks.get(a).first - tracks.get(b).first || a - b);
    for (const id of Array.from(ticked)) if (!tracks.has(id)) ticked.delete(id);
    if (selected != null && !tracks.has(selected)) selected = null;
    layoutLanes();
    renderTracks();
    renderEdits();
    select(selected, false);
    document.body.dataset.version = String(next.version);
  }

  // Resolves true once the page shows the server's current version: an action's "ok" is
  // said only then, so the next action never posts a version the server has moved past.
  async function refresh() {
    try {
      const next = await getJSON(API);
      adopt(next);
    } catch (e) {
      say(e.message, "error");
      if (e.status === 409) {
        data.job.state = "ENDED";
        updateButtons();
      }
      return false;
    }
    clearCache();
    await show(frameIndex);
    return true;
  }

  // ------------------------------------------------------------ asking why

  function ask({ title, detail = "", label = false, correct = null }) {
    const form = $("ask-form");
    const reason = $("ask-reason");
    $("ask-title").textContent = title;
    $("ask-detail").textContent = detail;
    $("ask-label-row").hidden = !label;
    $("ask-correct-row").hidden = !correct;
    $("ask-correct-text").textContent = correct || "";
    $("ask-correct").checked = !!correct;
    reason.value = "";
    return new Promise((resolve) => {
      const done = (value) => {
        form.onsubmit = null;
        $("ask-cancel").onclick = null;
        dlg.oncancel = null;
        if (dlg.open) dlg.close();
        resolve(value);
      };
      form.onsubmit = (ev) => {
        ev.preventDefault();
        const why = reason.value.trim();
        if (!why) {
          reason.focus();
          return;
        }
        done({ reason: why, label: $("ask-label").value, correct: $("ask-correct").checked });
      };
      $("ask-cancel").onclick = () => done(null);
      dlg.oncancel = (ev) => {
        ev.preventDefault();
        done(null);
      };
      dlg.showModal();
      reason.focus();
    });
  }

  // ------------------------------------------------------------ actions

  async function decide(decision) {
    if (selected == null || data.job.state !== "IN_REVIEW") return;
    const t = tracks.get(selected);
    const members = groupOf(t.id);
    const res = await ask({
      title: `${DECISION_TEXT[decision]}: track #${t.id}`,
      detail:
        `${trackText(t)}. Now: ${t.decision.replace("_", " ").toLowerCase()}.` +
        (members.size > 1 ? ` Applies to its whole group (${members.size} tracks).` : ""),
    });
    if (!res) return;
    const out = await post(`/tracks/${t.id}/decision`, { decision, reason: res.reason, version: t.version });
    if (!out) return;
    if (await refresh()) say(`track #${t.id}: ${DECISION_TEXT[decision].toLowerCase()}`, "ok");
  }

  async function group() {
    if (data.job.state !== "IN_REVIEW") return;
    const ids = Array.from(ticked).sort((a, b) => a - b);
    if (ids.length < 2) {
      say("tick at least two tracks to group them as one person", "error");
      return;
    }
    const res = await ask({
      title: `Group ${ids.length} tracks as one person`,
      detail: `Tracks #${ids.join(", #")}: a decision on one then applies to all.`,
    });
    if (!res) return;
    const out = await post("/groups", { track_ids: ids, reason: res.reason, version: data.version });
    if (!out) return;
    ticked.clear();
    if (await refresh()) say(`grouped #${ids.join(", #")} as one person`, "ok");
  }

  async function signOff() {
    if (data.job.state !== "IN_REVIEW") return;
    const res = await ask({
      title: "Sign off",
      detail: `You went through all ${FRAMES} frames at version ${data.version}; an approver decides next.`,
    });
    if (!res) return;
    const out = await post("/sign-off", { version: data.version, reason: res.reason });
    if (!out) return;
    if (await refresh()) say(`signed off at version ${out.version}`, "ok");
  }

  async function addBox(box) {
    const n = frameIndex;
    const sel = selected != null ? tracks.get(selected) : null;
    const correctable = sel && sel.added ? sel : null;
    const res = await ask({
      title: correctable ? `A box on frame ${n}` : `Add a missed object on frame ${n}`,
      detail: `Box ${box.map((v) => Math.round(v)).join(", ")} (full-resolution px); it is followed through the clip both ways.`,
      label: true,
      correct: correctable ? `Correct object #${correctable.id} with this box (untick: a new object)` : null,
    });
    if (!res) return;
    const body = { frame: n, box, label: res.label, reason: res.reason };
    if (correctable && res.correct) {
      body.object_id = correctable.id;
      body.version = correctable.version;
    }
    const out = await post("/objects", body);
    if (!out) return;
    const id = out.track.id;
    selected = id;
    if (!(await refresh())) return;
    say(
      body.object_id
        ? `object #${id} corrected on frame ${n}`
        : `object #${id} added on frame ${n}, followed over frames ${out.track.first}–${out.track.last}`,
      "ok",
    );
  }

  function setAddMode(on) {
    addMode = on && data.job.state === "IN_REVIEW" && D.may.review;
    drag = null;
    overlay.classList.toggle("adding", addMode);
    if (addBtn) addBtn.classList.toggle("active", addMode);
    if (addMode) {
      const sel = selected != null ? tracks.get(selected) : null;
      say(
        sel && sel.added
          ? `draw a box on the frame: it corrects object #${sel.id} here (Esc to stop)`
          : "draw a box around the missed object on the frame (Esc to stop)",
      );
    }
    drawOverlay();
  }

  // ------------------------------------------------------------ mouse on the frame

  function proxyPoint(ev) {
    const rect = overlay.getBoundingClientRect();
    return {
      x: Math.max(0, Math.min(overlay.width, ((ev.clientX - rect.left) / rect.width) * overlay.width)),
      y: Math.max(0, Math.min(overlay.height, ((ev.clientY - rect.top) / rect.height) * overlay.height)),
    };
  }

  overlay.addEventListener("pointerdown", (ev) => {
    const p = proxyPoint(ev);
    if (addMode) {
      pause();
      drag = { x0: p.x, y0: p.y, x1: p.x, y1: p.y };
      overlay.setPointerCapture(ev.pointerId);
      ev.preventDefault();
      return;
    }
    if (!current) return;
    const hits = current.frame.masks.filter((m) => {
      const [x0, y0, x1, y1] = m.box.map((v) => v * SCALE);
      return m.track_id && x0 <= p.x && p.x <= x1 && y0 <= p.y && p.y <= y1;
    });
    hits.sort((a, b) => area(a.box) - area(b.box));
    if (hits.length) select(hits[0].track_id, false);
  });

  function area(b) {
    return (b[2] - b[0]) * (b[3] - b[1]);
  }

  overlay.addEventListener("pointermove", (ev) => {
    if (!drag || !addMode) return;
    const p = proxyPoint(ev);
    drag.x1 = p.x;
    drag.y1 = p.y;
    drawOverlay();
  });

  overlay.addEventListener("pointerup", (ev) => {
    if (!drag || !addMode) return;
    const p = proxyPoint(ev);
    drag.x1 = p.x;
    drag.y1 = p.y;
    const box = [
      Math.min(drag.x0, drag.x1) / SCALE,
      Math.min(drag.y0, drag.y1) / SCALE,
      Math.max(drag.x0, drag.x1) / SCALE,
      Math.max(drag.y0, drag.y1) / SCALE,
    ].map((v, i) => Math.max(0, Math.min(i % 2 ? D.height : D.width, v)));
    if (box[2] - box[0] < MIN_BOX_PX || box[3] - box[1] < MIN_BOX_PX) {
      drag = null;
      drawOverlay();
      say("drag to draw a box (it was too small)");
      return;
    }
    // the box stays drawn while its dialog is open; box mode ends with this one box
    addMode = false;
    overlay.classList.remove("adding");
    if (addBtn) addBtn.classList.remove("active");
    addBox(box).finally(() => {
      drag = null;
      drawOverlay();
    });
  });

  // ------------------------------------------------------------ playing

  function play() {
    if (playing) return;
    if (frameIndex >= FRAMES - 1) frameIndex = -1;
    playing = true;
    playBtn.textContent = "❚❚";
    tick();
  }

  function pause() {
    playing = false;
    playBtn.textContent = "▶";
  }

  async function tick() {
    if (!playing) return;
    if (frameIndex >= FRAMES - 1) {
      pause();
      return;
    }
    const started = performance.now();
    await show(frameIndex + 1);
    if (!playing) return;
    setTimeout(tick, Math.max(0, 1000 / FPS - (performance.now() - started)));
  }

  playBtn.addEventListener("click", () => (playing ? pause() : play()));
  scrub.addEventListener("input", () => show(Number(scrub.value), performance.now()));
  releasedBox.addEventListener("change", () => show(frameIndex, performance.now()));
  outlinesBox.addEventListener("change", drawOverlay);
  if (addBtn) addBtn.addEventListener("click", () => setAddMode(!addMode));
  if (groupBtn) groupBtn.addEventListener("click", group);
  if (signOffBtn) signOffBtn.addEventListener("click", signOff);
  for (const b of decisionBtns) b.addEventListener("click", () => decide(b.dataset.decision));
  window.addEventListener("resize", () => {
    drawTimeline();
    const li = selected != null && list.querySelector(`li[data-track="${selected}"]`);
    if (li) scrollIntoList(li);
  });

  // ------------------------------------------------------------ keys

  function neighbour(step) {
    if (!order.length) return;
    const at = selected == null ? (step > 0 ? -1 : order.length) : order.indexOf(selected);
    const next = order[Math.max(0, Math.min(order.length - 1, at + step))];
    select(next, true);
  }

  document.addEventListener("keydown", (ev) => {
    if (dlg.open || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const el = ev.target;
    const typing =
      (el.tagName === "INPUT" && !["range", "checkbox"].includes(el.type)) ||
      el.tagName === "TEXTAREA" ||
      el.tagName === "SELECT";
    if (typing) return;
    const t0 = performance.now();
    const second = Math.max(1, Math.round(FPS));
    switch (ev.key) {
      case "ArrowRight":
        pause();
        show(frameIndex + (ev.shiftKey ? second : 1), t0);
        break;
      case "ArrowLeft":
        pause();
        show(frameIndex - (ev.shiftKey ? second : 1), t0);
        break;
      case "Home":
        show(0, t0);
        break;
      case "End":
        show(FRAMES - 1, t0);
        break;
      case " ":
        playing ? pause() : play();
        break;
      case "m":
        if (D.may.review) decide("MASK");
        break;
      case "v":
        if (D.may.review) decide("VISIBLE");
        break;
      case "f":
        if (D.may.review) decide("FALSE_POSITIVE");
        break;
      case "a":
        setAddMode(!addMode);
        break;
      case "g":
        if (D.may.review) group();
        break;
      case "r":
        if (!releasedBox.disabled) {
          releasedBox.checked = !releasedBox.checked;
          show(frameIndex, t0);
        }
        break;
      case "o":
        outlinesBox.checked = !outlinesBox.checked;
        drawOverlay();
        break;
      case "[":
        neighbour(-1);
        break;
      case "]":
        neighbour(1);
        break;
      case "Escape":
        if (addMode) setAddMode(false);
        else select(null, false);
        break;
      default:
        return;
    }
    ev.preventDefault();
  });

  // ------------------------------------------------------------ start

  adopt(D);
  if (data.job.state !== "IN_REVIEW") say(`this export is ${data.job.state}: it can no longer be changed`);
  show(0).then(() => {
    timings.open_ms = performance.now();
    document.body.dataset.ready = "1";
  });
})();
