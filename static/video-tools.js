/* Labelwell video tools: the player of a <Video> (components/video.html), stepped frame by frame, the boxes
   of <VideoRectangle> tracks over it and the timeline of <TimelineLabels> spans under it. Loaded (defer)
   after workspace.js; new tracks and spans go through window.Labelwell.addRegion, keyframes through
   updateRegion, like any region. The <video> survives the form's re-render (hx-preserve); everything else
   is redrawn from it on lw:rendered.
   Frames are 1-based: frame N is on screen from (N-1)/fps to N/fps, and a seek to frame N goes to its
   middle, (N-0.5)/fps, so the browser shows exactly that frame; results write time = N/fps (Label
   Studio's). Between keyframes a box is interpolated linearly (the same rule as
   components/video_rectangle.py box_at); after a keyframe with enabled false it is gone until the next.
   Keys: space plays/pauses, , and . step one frame, arrows jump 1 s (Shift: 5 s), [ and ] mark a
   timeline span's first and last frame with the pressed label. */
(() => {
  'use strict';
  const LW = () => window.Labelwell;
  const KEYS = ['rotation', 'x', 'y', 'width', 'height'];
  const marks = new Map();        // video name -> the first frame of a span, waiting for its last
  const started = new WeakSet();  // players whose config defaults were applied
  let current = null;             // the video keys act on: the last one used
  let drag = null;                // a box or span being drawn, moved or resized
  let ticking = 0;

  const objects = () => [...document.querySelectorAll('.lw-video')].filter((o) => o.querySelector('video'));
  const objectNamed = (name) => objects().find((o) => o.dataset.name === name) || null;
  const playerOf = (obj) => obj.querySelector('video');
  const fpsOf = (obj) => parseFloat(obj.dataset.fps) || 24;
  const r4 = (v) => Math.round(v * 10000) / 10000;
  const clamp = (v, low, high) => Math.min(high, Math.max(low, v));
  const workspace = () => !!document.querySelector('.lw-workspace') && !!LW();

  // the file's frames: ffprobe's count from the server, else the browser's duration times the rate
  function framesOf(obj) {
    const known = parseInt(obj.dataset.frames, 10);
    if (known > 0) return known;
    const d = playerOf(obj).duration;
    const length = Number.isFinite(d) && d > 0 ? d : parseFloat(obj.dataset.duration);
    return length > 0 ? Math.max(1, Math.round(length * fpsOf(obj))) : null;
  }

  function durationOf(obj) {
    const d = playerOf(obj).duration;
    if (Number.isFinite(d) && d > 0) return d;
    const stored = parseFloat(obj.dataset.duration);
    return stored > 0 ? stored : (framesOf(obj) || 1) / fpsOf(obj);
  }

  function clampFrame(obj, n) {
    const total = framesOf(obj);
    return Math.max(1, total ? Math.min(n, total) : n);
  }

  // the frame on screen: while playing, the one the browser last presented (requestVideoFrameCallback);
  // else the one currentTime falls in
  function frameOf(obj) {
    const player = playerOf(obj);
    if (!player.paused && player.lwShown) return clampFrame(obj, player.lwShown);
    return clampFrame(obj, Math.floor(player.currentTime * fpsOf(obj) + 1e-6) + 1);
  }

  function seekFrame(obj, n) {
    const player = playerOf(obj);
    current = obj.dataset.name;
    player.currentTime = (clampFrame(obj, n) - 0.5) / fpsOf(obj);
    player.lwShown = 0;
    paint(obj);
  }

  function say(obj, text) {
    const status = obj.querySelector('.lw-video-status');
    if (!status) return;
    status.textContent = text;
    clearTimeout(say.timer);
    say.timer = setTimeout(() => { status.textContent = ''; }, 4000);
  }

  // -- tracks: keyframes and interpolation --------------------------------------------------------

  function boxAt(sequence, frame) {
    let before = null, after = null;
    for (const kf of sequence) {
      if (kf.frame <= frame) before = kf;
      else { after = kf; break; }
    }
    if (!before || (before.enabled === false && before.frame !== frame)) return null;
    const out = {};
    const t = after && before.frame !== frame ? (frame - before.frame) / (after.frame - before.frame) : 0;
    for (const k of KEYS) out[k] = (before[k] || 0) + (after ? ((after[k] || 0) - (before[k] || 0)) * t : 0);
    return out;
  }

  function trackOf(id) {
    const input = document.querySelector(`.lw-region[data-region="${CSS.escape(id)}"] input[name=region]`);
    return input ? JSON.parse(input.value) : null;
  }

  function keyframe(obj, frame, shape, enabled) {
    const kf = { frame, enabled, rotation: r4(shape.rotation || 0), x: r4(shape.x), y: r4(shape.y),
                 width: r4(shape.width), height: r4(shape.height), time: frame / fpsOf(obj) };
    return kf;
  }

  function withKey(sequence, kf) {
    return sequence.filter((k) => k.frame !== kf.frame).concat([kf]).sort((a, b) => a.frame - b.frame);
  }

  // -- drawing: counter, cursor, boxes, spans -----------------------------------------------------

  function place(el, b) {
    el.hidden = !b;
    if (!b) return;
    el.style.left = b.x + '%';
    el.style.top = b.y + '%';
    el.style.width = b.width + '%';
    el.style.height = b.height + '%';
    el.style.transform = b.rotation ? `rotate(${b.rotation}deg)` : '';
  }

  function paint(obj) {
    const player = playerOf(obj), frame = frameOf(obj), total = framesOf(obj);
    const counter = obj.querySelector('.lw-video-counter');
    if (counter) counter.textContent = `frame ${frame}` + (total ? ` / ${total}` : '');
    const clock = obj.querySelector('.lw-video-clock');
    if (clock) clock.textContent = (Number.isFinite(player.currentTime) ? player.currentTime : 0).toFixed(2) + ' s';
    const cursor = obj.querySelector('.lw-video-cursor');
    if (cursor && total) {
      cursor.style.left = ((frame - 1) / total * 100) + '%';
      cursor.style.width = Math.max(0.2, 100 / total) + '%';
    }
    const play = obj.querySelector('[data-video=play]');
    if (play) {
      play.textContent = player.paused ? 'Play' : 'Pause';
      play.setAttribute('aria-pressed', player.paused ? 'false' : 'true');
    }
    for (const el of obj.querySelectorAll('.lw-video-box[data-region]')) {
      if (drag && drag.el === el) continue;
      el.lwSequence = el.lwSequence || JSON.parse(el.dataset.sequence);
      place(el, boxAt(el.lwSequence, frame));
    }
    for (const button of obj.querySelectorAll('[data-video-action=toggle]')) {
      const track = trackOf(button.closest('.lw-region').dataset.region);
      const here = track && track.value.sequence.find((k) => k.frame === frame);
      const shown = track && boxAt(track.value.sequence, frame) && !(here && here.enabled === false);
      button.textContent = shown ? `End at frame ${frame}` : `Resume at frame ${frame}`;
    }
  }

  function layout(obj) {
    const total = framesOf(obj);
    if (total) {
      for (const span of obj.querySelectorAll('.lw-video-span')) {
        const start = parseInt(span.dataset.start, 10), end = parseInt(span.dataset.end, 10);
        span.style.left = ((start - 1) / total * 100) + '%';
        span.style.width = ((end - start + 1) / total * 100) + '%';
      }
      const goto = obj.querySelector('[data-video=goto]');
      if (goto) goto.max = String(total);
    }
    const speed = obj.querySelector('[data-video=speed]');
    const rate = playerOf(obj).playbackRate;
    if (speed) speed.value = [...speed.options].map((o) => o.value).find((v) => parseFloat(v) === rate) || speed.value;
    const mark = obj.querySelector('[data-video=mark]');
    if (mark) mark.textContent = marks.has(obj.dataset.name) ? `Mark end (from frame ${marks.get(obj.dataset.name)})` : 'Mark start';
    paint(obj);
  }

  // the frame the browser presents, as it presents it: the counter and the boxes follow the picture
  function watch(player) {
    if (!player.requestVideoFrameCallback) return;
    const step = (now, meta) => {
      const obj = player.closest('.lw-video');
      if (!obj) return;  // the form was replaced without this player
      if (!window.lwVideoFirstFrame) window.lwVideoFirstFrame = performance.now();
      player.lwShown = Math.round(meta.mediaTime * fpsOf(obj)) + 1;
      paint(obj);
      player.requestVideoFrameCallback(step);
    };
    player.requestVideoFrameCallback(step);
  }

  function setup() {
    for (const obj of objects()) {
      const player = playerOf(obj);
      if (!started.has(player)) {
        started.add(player);
        player.defaultPlaybackRate = player.playbackRate = parseFloat(obj.dataset.speed) || 1;
        watch(player);
        if (player.readyState >= 2 && !window.lwVideoFirstFrame) window.lwVideoFirstFrame = performance.now();
      }
      layout(obj);
    }
  }

  function tick() {
    ticking = 0;
    let playing = false;
    for (const obj of objects()) {
      paint(obj);
      playing = playing || !playerOf(obj).paused;
    }
    if (playing) ticking = requestAnimationFrame(tick);
  }

  // -- a synced <Audio> (Label Studio's "audio sync trick"): the two play, pause and seek together --

  function partner(media) {
    const obj = media.closest('.lw-video, .lw-audio');
    if (!obj) return null;
    const other = obj.dataset.sync && document.querySelector(`.lw-object[data-name="${CSS.escape(obj.dataset.sync)}"]`);
    return other ? other.querySelector('video, audio') : null;
  }

  function mirror(type, from) {
    const to = partner(from);
    if (!to) return;
    if (type === 'play' && to.paused) to.play().catch(() => {});
    if (type === 'pause' && !to.paused) to.pause();
    if ((type === 'seeked' || type === 'pause') && Math.abs(to.currentTime - from.currentTime) > 0.05) to.currentTime = from.currentTime;
    if (type === 'ratechange') to.playbackRate = from.playbackRate;
  }

  // media events do not bubble: listen in the capture phase
  for (const type of ['play', 'pause', 'timeupdate', 'seeked', 'loadedmetadata', 'loadeddata', 'durationchange', 'ratechange']) {
    document.addEventListener(type, (e) => {
      if (e.target.tagName !== 'VIDEO' && e.target.tagName !== 'AUDIO') return;
      mirror(type, e.target);
      const obj = e.target.tagName === 'VIDEO' && e.target.closest('.lw-video');
      if (!obj) return;
      // the first frame there is to show (a paused player may present it later, or never in a headless browser)
      if (type === 'loadeddata' && !window.lwVideoFirstFrame) window.lwVideoFirstFrame = performance.now();
      if (type === 'loadedmetadata' || type === 'durationchange' || type === 'ratechange') layout(obj);
      else paint(obj);
      if (type === 'play') {
        current = obj.dataset.name;
        if (!ticking) ticking = requestAnimationFrame(tick);
      }
      // paused: show a whole frame, the one on screen, so the counter and the picture agree
      if (type === 'pause' && !e.target.seeking && workspace()) seekFrame(obj, e.target.lwShown || frameOf(obj));
    }, true);
  }

  // -- acting on the player ----------------------------------------------------------------------

  function toggle(obj) {
    const player = playerOf(obj);
    current = obj.dataset.name;
    if (player.paused) player.play().catch(() => say(obj, 'This video cannot be played here.'));
    else player.pause();
  }

  function step(obj, frames) {
    const player = playerOf(obj);
    const from = frameOf(obj);
    if (!player.paused) player.pause();
    seekFrame(obj, from + frames);
  }

  // a pressed label of a palette of this type on this video (or the only label there is, for spans)
  function pressedIn(obj, type) {
    const palettes = [...document.querySelectorAll('.lw-labels[data-control]')].filter((f) => f.dataset.type === type
      && (f.dataset.to || '').split(',').map((s) => s.trim()).includes(obj.dataset.name));
    for (const f of palettes) {
      const values = [...f.querySelectorAll('.lw-label[aria-pressed=true]')].map((b) => b.dataset.value).filter((v) => v);
      if (values.length) return { control: f.dataset.control, values };
    }
    const buttons = palettes.flatMap((f) => [...f.querySelectorAll('.lw-label')]);
    if (type === 'timelinelabels' && palettes.length === 1 && buttons.length === 1) {
      return { control: palettes[0].dataset.control, values: [buttons[0].dataset.value] };
    }
    return null;
  }

  function addSpan(obj, a, b) {
    const label = pressedIn(obj, 'timelinelabels');
    if (!label) { say(obj, 'Press a timeline label first (its key or its button).'); return false; }
    const start = Math.min(a, b), end = Math.max(a, b);
    LW().addRegion({ from_name: label.control, to_name: obj.dataset.name, type: 'timelinelabels',
                     value: { ranges: [{ start, end }], timelinelabels: label.values } }, { select: false });
    say(obj, `Frames ${start} to ${end} marked ${label.values.join(', ')}.`);
    return true;
  }

  function markStart(obj) {
    marks.set(obj.dataset.name, frameOf(obj));
    current = obj.dataset.name;
    layout(obj);
    say(obj, `First frame ${marks.get(obj.dataset.name)} marked: press ] on the last one.`);
  }

  function markEnd(obj) {
    const name = obj.dataset.name;
    if (!marks.has(name)) { markStart(obj); return; }
    if (addSpan(obj, marks.get(name), frameOf(obj))) marks.delete(name);
    layout(obj);
  }

  // -- the boxes: draw, move, resize (pointer), then a keyframe on the frame shown -----------------

  function point(area, e) {
    const r = area.getBoundingClientRect();
    return { x: clamp((e.clientX - r.left) / r.width * 100, 0, 100), y: clamp((e.clientY - r.top) / r.height * 100, 0, 100) };
  }

  function shaped(d, p) {
    const dx = p.x - d.start.x, dy = p.y - d.start.y, s = d.shape;
    if (d.mode === 'move') {
      return { ...s, x: clamp(s.x + dx, 0, 100 - s.width), y: clamp(s.y + dy, 0, 100 - s.height) };
    }
    if (d.mode === 'resize') {
      return { ...s, width: clamp(s.width + dx, 0.2, 100 - s.x), height: clamp(s.height + dy, 0.2, 100 - s.y) };
    }
    return { rotation: 0, x: Math.min(d.start.x, p.x), y: Math.min(d.start.y, p.y), width: Math.abs(dx), height: Math.abs(dy) };
  }

  function finishBox(d, p) {
    const obj = d.obj, shape = shaped(d, p), frame = frameOf(obj);
    if (d.mode === 'draw') {
      d.el.remove();
      if (shape.width < 0.5 || shape.height < 0.5) { LW().select(null); return; }
      const label = pressedIn(obj, 'labels');
      const value = { framesCount: framesOf(obj), duration: r4(durationOf(obj)), sequence: [keyframe(obj, frame, shape, true)] };
      if (label) value.labels = label.values;
      LW().addRegion({ from_name: obj.dataset.boxControl, to_name: obj.dataset.name, type: 'videorectangle', value });
      say(obj, `Track started at frame ${frame}: move the box on a later frame to add a keyframe.`);
      return;
    }
    if (Math.abs(p.x - d.start.x) < 0.2 && Math.abs(p.y - d.start.y) < 0.2) return;  // a click: selected only
    const track = trackOf(d.id);
    if (!track) return;
    LW().updateRegion(d.id, { sequence: withKey(track.value.sequence, keyframe(obj, frame, shape, true)) });
    say(obj, `Keyframe at frame ${frame}.`);
  }

  function startBox(e, overlay) {
    const obj = overlay.closest('.lw-video');
    const box = e.target.closest('.lw-video-box[data-region]');
    if (!box && !obj.dataset.boxControl) return null;
    const player = playerOf(obj);
    if (!player.paused) player.pause();
    current = obj.dataset.name;
    const start = point(overlay, e);
    if (box) {
      LW().select(box.dataset.region);
      const at = boxAt(box.lwSequence || JSON.parse(box.dataset.sequence), frameOf(obj));
      if (!at) return null;
      return { mode: e.target.closest('.lw-video-handle') ? 'resize' : 'move', obj, area: overlay, el: box, start,
               shape: at, id: box.dataset.region };
    }
    const el = document.createElement('div');
    el.className = 'lw-video-box lw-video-new';
    overlay.appendChild(el);
    return { mode: 'draw', obj, area: overlay, el, start };
  }

  // -- the timeline: click a frame to go there; with a timeline label pressed, drag to mark frames -

  function frameAtX(obj, area, e) {
    const r = area.getBoundingClientRect(), total = framesOf(obj) || 1;
    return clamp(Math.floor((e.clientX - r.left) / r.width * total) + 1, 1, total);
  }

  function startSpan(e, timeline) {
    const obj = timeline.closest('.lw-video');
    const first = frameAtX(obj, timeline, e);
    if (!pressedIn(obj, 'timelinelabels') || !obj.querySelector('[data-video=mark]')) {
      const player = playerOf(obj);
      if (!player.paused) player.pause();
      seekFrame(obj, first);
      return null;
    }
    const el = document.createElement('span');
    el.className = 'lw-video-span lw-video-new';
    timeline.appendChild(el);
    const d = { mode: 'span', obj, area: timeline, el, first };
    spanShape(d, first);
    return d;
  }

  function spanShape(d, last) {
    const total = framesOf(d.obj) || 1, a = Math.min(d.first, last), b = Math.max(d.first, last);
    d.el.style.left = ((a - 1) / total * 100) + '%';
    d.el.style.width = ((b - a + 1) / total * 100) + '%';
  }

  document.addEventListener('pointerdown', (e) => {
    if (e.button !== 0 || !workspace() || !e.target.closest) return;
    const overlay = e.target.closest('.lw-video-overlay');
    const timeline = !overlay && e.target.closest('.lw-video-timeline');
    if (timeline && e.target.closest('.lw-video-span')) return;  // a span's own click
    const d = overlay ? startBox(e, overlay) : timeline ? startSpan(e, timeline) : null;
    if (!d) return;
    drag = d;
    d.area.setPointerCapture(e.pointerId);
    e.preventDefault();
  });

  document.addEventListener('pointermove', (e) => {
    if (!drag) return;
    if (drag.mode === 'span') spanShape(drag, frameAtX(drag.obj, drag.area, e));
    else place(drag.el, shaped(drag, point(drag.area, e)));
  });

  document.addEventListener('pointerup', (e) => {
    if (!drag) return;
    const d = drag;
    drag = null;
    if (d.mode === 'span') {
      d.el.remove();
      addSpan(d.obj, d.first, frameAtX(d.obj, d.area, e));
    } else finishBox(d, point(d.area, e));
  });

  // -- clicks: the toolbar, spans, the rows of the region list -----------------------------------

  function rowAction(obj, button) {
    const id = button.closest('.lw-region').dataset.region;
    const track = trackOf(id);
    if (!track) return;
    const sequence = track.value.sequence, frame = frameOf(obj);
    if (button.dataset.videoAction === 'unkey') {
      if (sequence.length > 1) LW().updateRegion(id, { sequence: sequence.filter((k) => k.frame !== parseInt(button.dataset.frame, 10)) });
      return;
    }
    const here = sequence.find((k) => k.frame === frame);
    const shown = boxAt(sequence, frame);
    if (shown && !(here && here.enabled === false)) {
      LW().updateRegion(id, { sequence: withKey(sequence, keyframe(obj, frame, shown, false)) });
      say(obj, `The box ends at frame ${frame}.`);
    } else {
      const last = [...sequence].reverse().find((k) => k.frame <= frame) || sequence[0];
      LW().updateRegion(id, { sequence: withKey(sequence, keyframe(obj, frame, last, true)) });
      say(obj, `The box is back from frame ${frame}.`);
    }
  }

  document.addEventListener('click', (e) => {
    const obj = e.target.closest && e.target.closest('.lw-video');
    if (!obj || !playerOf(obj) || !workspace()) return;
    const tool = e.target.closest('button[data-video]');
    if (tool) {
      const act = tool.dataset.video;
      if (act === 'play') toggle(obj);
      else if (act === 'back' || act === 'forward') step(obj, act === 'back' ? -1 : 1);
      else if (act === 'mark') (marks.has(obj.dataset.name) ? markEnd : markStart)(obj);
      return;
    }
    const action = e.target.closest('[data-video-action]');
    if (action) {
      e.stopPropagation();
      rowAction(obj, action);
      return;
    }
    const seek = e.target.closest('.lw-video-seek[data-frame], .lw-video-span');
    if (seek) {
      e.stopPropagation();  // not the region row's own click (which toggles the selection)
      const player = playerOf(obj);
      if (!player.paused) player.pause();
      seekFrame(obj, parseInt(seek.dataset.frame || seek.dataset.start, 10));
      LW().select(seek.dataset.region || seek.closest('.lw-region').dataset.region);
    }
  }, true);

  // a label pressed while a track is selected relabels the track (its labels live in its own item)
  document.addEventListener('lw:label', (e) => {
    if (!LW() || e.detail.type !== 'labels') return;
    const id = LW().selected(), track = id && trackOf(id);
    if (!track || track.type !== 'videorectangle') return;
    const obj = objectNamed(track.to_name), label = obj && pressedIn(obj, 'labels');
    if (label && label.control === e.detail.control) LW().updateRegion(id, { labels: label.values });
  });

  // speed and "go to" act on the player; they are not part of the annotation, so the form does not hear them
  window.addEventListener('change', (e) => {
    const control = e.target.closest && e.target.closest('.lw-video [data-video]');
    if (!control) return;
    e.stopPropagation();
    const obj = control.closest('.lw-video');
    if (control.dataset.video === 'speed') playerOf(obj).playbackRate = parseFloat(control.value) || 1;
    if (control.dataset.video === 'goto' && Number.isFinite(parseInt(control.value, 10))) seekFrame(obj, parseInt(control.value, 10));
  }, true);

  // -- keys ---------------------------------------------------------------------------------------

  // capture phase on window: before workspace.js, so these keys do not also act on the form
  window.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && e.target.matches && e.target.matches('.lw-video [data-video=goto]')) {
      e.preventDefault();  // "go to" seeks; Enter there must not submit the form
      e.stopImmediatePropagation();
      const value = parseInt(e.target.value, 10);
      if (Number.isFinite(value)) seekFrame(e.target.closest('.lw-video'), value);
      return;
    }
    if (e.isComposing || !workspace() || LW().editing(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
    const help = document.getElementById('lw-help');
    if (help && help.open) return;
    const obj = objectNamed(current) || objects()[0];
    if (!obj) return;
    const consume = () => { e.preventDefault(); e.stopImmediatePropagation(); };
    const inVideo = !!e.target.closest('.lw-video');
    if (e.key === ' ') {
      if (e.target.matches('button, a, summary, input') && !inVideo && !e.target.classList.contains('lw-label')) return;
      consume();
      toggle(obj);
    } else if ((e.key === ',' || e.key === '.') && !LW().keyTaken(e.key)) {
      consume();
      step(obj, e.key === '.' ? 1 : -1);
    } else if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
      if (e.target.closest('.lw-text-body') || e.target.matches('input[type=range], input[type=radio]')) return;
      consume();
      const player = playerOf(obj);
      if (!player.paused) player.pause();
      seekFrame(obj, frameOf(obj) + (e.key === 'ArrowRight' ? 1 : -1) * Math.round((e.shiftKey ? 5 : 1) * fpsOf(obj)));
    } else if ((e.key === '[' || e.key === ']') && obj.querySelector('[data-video=mark]') && !LW().keyTaken(e.key)) {
      consume();
      (e.key === '[' ? markStart : markEnd)(obj);
    }
  }, true);

  document.addEventListener('lw:rendered', setup);
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', setup);
  else setup();
})();
