/* Labelwell audio tools: the player of an <Audio> (components/audio.html), its waveform and timeline of
   segments, and the keys and drags that make and change segments. Loaded (defer) after workspace.js; a
   new or changed segment goes through window.Labelwell.addRegion / updateRegion like any region. The
   server re-renders the form after each change; the <audio> element itself survives that (hx-preserve),
   so playback goes on, and everything else here is redrawn from it (and from the zoom and scroll kept
   here) on lw:rendered. Keys: space plays/pauses, arrows seek 1 s (Shift: 5 s), [ marks a segment's
   start and ] its end with the pressed label (or the only label there is), + and - zoom; for the
   selected segment Alt+arrows move it 0.1 s (Shift: 1 s), Alt+[ and Alt+] set its start and end to
   the playback position.
   The waveform is drawn from the peaks the server computed (app/uploads/waveform.py: min/max int8
   pairs, a fixed number a second), on a canvas the width of the visible part; time and pixels are
   mapped through the file's length as ffprobe read it, the same for the waveform, the cursor and the
   segments, so they never drift apart. */
(() => {
  'use strict';
  const LW = () => window.Labelwell;
  const marks = new Map();   // audio name -> the start time marked, waiting for its end
  const started = new WeakSet();  // players whose config defaults (speed, volume) were applied
  let current = null;        // the name of the audio keys act on: the last one used
  let frame = 0;
  const views = new Map();   // audio name -> {zoom, scroll}: kept across the form's re-renders
  const peaks = new Map();   // peaks address (without its version) -> {rate, count, data} | 'loading' | 'failed'
  const MAX_ZOOM = 1500, STEP = 0.1, NUDGE = 3;  // zoom factor, seconds an Alt+arrow moves, pixels a drag needs
  let drag = null;           // the drag under way: {name, mode, id?, x0, t0, start, end, moved}
  let quiet = false;         // the click that ends a drag (dispatched right after it) is no seek or selection

  const objects = () => [...document.querySelectorAll('.lw-audio')].filter((o) => o.querySelector('audio'));
  const objectNamed = (name) => objects().find((o) => o.dataset.name === name) || null;
  const playerOf = (obj) => obj.querySelector('audio');
  const ms = (t) => Math.round(t * 1000) / 1000;
  const fmt = (t) => (Number.isFinite(t) ? t : 0).toFixed(2) + ' s';

  function lengthOf(obj) {
    const file = parseFloat(obj.dataset.fileDuration);  // ffprobe's: the server's positions use it too
    if (file > 0) return file;
    const d = playerOf(obj).duration;
    if (Number.isFinite(d) && d > 0) return d;
    const known = parseFloat(obj.dataset.duration);
    return known > 0 ? known : null;
  }

  function say(obj, text) {
    const status = obj.querySelector('.lw-audio-status');
    if (!status) return;
    status.textContent = text;
    clearTimeout(say.timer);
    say.timer = setTimeout(() => { status.textContent = ''; }, 4000);
  }

  // -- drawing: clock, cursor, segments and controls, from the player's own state ----------------

  function paint(obj) {
    const player = playerOf(obj), length = lengthOf(obj);
    const clock = obj.querySelector('.lw-audio-clock');
    if (clock) clock.textContent = fmt(player.currentTime) + (length ? ' / ' + fmt(length) : '');
    const cursor = obj.querySelector('.lw-audio-cursor');
    if (cursor && length) {
      cursor.style.left = Math.min(100, player.currentTime / length * 100) + '%';
      if (!player.paused && !drag) reveal(obj, player.currentTime, 0.1);
    }
    const play = obj.querySelector('[data-audio=play]');
    if (play) {
      play.textContent = player.paused ? 'Play' : 'Pause';
      play.setAttribute('aria-pressed', player.paused ? 'false' : 'true');
    }
  }

  function layout(obj) {
    const length = lengthOf(obj);
    if (length) {
      for (const seg of obj.querySelectorAll('.lw-audio-segment')) {
        const start = parseFloat(seg.dataset.start), end = parseFloat(seg.dataset.end);
        seg.style.left = (start / length * 100) + '%';
        seg.style.width = (Math.max(0, Math.min(end, length) - start) / length * 100) + '%';
      }
    }
    zoomTo(obj, viewOf(obj).zoom, null);
    const player = playerOf(obj);
    const speed = obj.querySelector('[data-audio=speed]');
    if (speed) speed.value = String(player.playbackRate % 1 ? player.playbackRate : player.playbackRate.toFixed(1));
    const volume = obj.querySelector('[data-audio=volume]');
    if (volume) volume.value = String(player.volume);
    const mark = obj.querySelector('[data-audio=mark]');
    if (mark) mark.textContent = marks.has(obj.dataset.name) ? `Mark end (from ${fmt(marks.get(obj.dataset.name))})` : 'Mark start';
    paint(obj);
  }

  function setup() {
    for (const obj of objects()) {
      const player = playerOf(obj);
      if (!started.has(player)) {
        started.add(player);
        player.defaultPlaybackRate = player.playbackRate = parseFloat(obj.dataset.speed) || 1;
        player.volume = Math.min(1, Math.max(0, parseFloat(obj.dataset.volume)));
      }
      layout(obj);
      load(obj);
      spectrum(obj);
    }
  }

  // -- the waveform: zoom, scroll, and the peaks drawn on a canvas the width of the visible part ---

  const parts = (obj) => ({ wave: obj.querySelector('.lw-audio-wave'), scroll: obj.querySelector('.lw-audio-scroll'),
                            timeline: obj.querySelector('.lw-audio-timeline'), canvas: obj.querySelector('.lw-audio-canvas') });

  function viewOf(obj) {
    const name = obj.dataset.name;
    if (!views.has(name)) {
      const wave = obj.querySelector('.lw-audio-wave');
      views.set(name, { zoom: Math.min(MAX_ZOOM, Math.max(1, parseFloat(wave && wave.dataset.zoom) || 1)), scroll: 0 });
    }
    return views.get(name);
  }

  // the timeline as wide as the zoom; `keep` (seconds) stays where it was on screen, else the scroll kept
  function zoomTo(obj, zoom, keep) {
    const { scroll, timeline } = parts(obj);
    const view = viewOf(obj), length = lengthOf(obj);
    if (!scroll || !timeline) return;
    const before = keep !== null && length ? keep / length * timeline.offsetWidth - scroll.scrollLeft : 0;
    view.zoom = Math.min(MAX_ZOOM, Math.max(1, zoom));
    timeline.style.width = (view.zoom * 100) + '%';
    const spectrum = obj.querySelector('.lw-audio-spectrum');
    if (spectrum) spectrum.style.width = (view.zoom * 100) + '%';
    if (keep !== null && length) view.scroll = keep / length * timeline.offsetWidth - before;
    scroll.scrollLeft = view.scroll;
    view.scroll = scroll.scrollLeft;
    const shown = obj.querySelector('.lw-audio-zoom-level');
    if (shown) shown.textContent = (Math.round(view.zoom * 100) / 100) + '×';
    draw(obj);
  }

  function zoomBy(obj, factor) {
    const player = playerOf(obj);
    zoomTo(obj, viewOf(obj).zoom * factor, player.currentTime);
    reveal(obj, player.currentTime, 0.5);
    say(obj, `Zoom ${Math.round(viewOf(obj).zoom * 100) / 100}×`);
  }

  // scroll so that time t is in view (at `at` of the width when it was not)
  function reveal(obj, t, at) {
    const { scroll, timeline } = parts(obj);
    const length = lengthOf(obj);
    if (!scroll || !timeline || !length || viewOf(obj).zoom <= 1) return;
    const x = t / length * timeline.offsetWidth;
    if (x < scroll.scrollLeft || x > scroll.scrollLeft + scroll.clientWidth - 2) {
      scroll.scrollLeft = Math.max(0, x - scroll.clientWidth * at);
      viewOf(obj).scroll = scroll.scrollLeft;
      draw(obj);
    }
  }

  const keyOf = (address) => address.split('?')[0];

  function load(obj) {
    const { wave } = parts(obj);
    const address = wave && wave.dataset.peaks;
    if (!address || peaks.has(keyOf(address))) return;
    peaks.set(keyOf(address), 'loading');
    const note = obj.querySelector('.lw-audio-wave-note');
    let tries = 0;
    const attempt = () => fetch(address, { credentials: 'same-origin' }).then((r) => {
      if (r.status === 404 && wave.dataset.peaksState === 'pending' && tries++ < 300) { setTimeout(attempt, 2000); return null; }
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.arrayBuffer();
    }).then((buffer) => {
      if (!buffer) return;
      peaks.set(keyOf(address), parse(buffer));
      for (const o of objects()) if (parts(o).wave && keyOf(parts(o).wave.dataset.peaks || '') === keyOf(address)) draw(o);
    }).catch(() => {
      peaks.set(keyOf(address), 'failed');
      for (const o of objects()) {
        const n = o.querySelector('.lw-audio-wave-note');
        if (n && parts(o).wave.dataset.peaks === address) n.textContent = 'The waveform could not be read; the player works without it.';
      }
    });
    if (note && wave.dataset.peaksState === 'pending') note.textContent = 'The waveform is being computed; it appears here when ready.';
    attempt();
  }

  // the spectrogram: a picture the worker draws when first asked for (404 until then); kept across re-renders
  const spectra = new Map();  // address -> object URL of the loaded picture
  function spectrum(obj) {
    const img = obj.querySelector('.lw-audio-spectrum img');
    if (!img) return;
    const address = img.dataset.src;
    if (spectra.get(address)) { img.src = spectra.get(address); return; }
    if (spectra.has(address)) return;  // on its way
    spectra.set(address, null);
    let tries = 0;
    const attempt = () => fetch(address, { credentials: 'same-origin' }).then((r) => {
      if (r.status === 404 && tries++ < 150) { setTimeout(attempt, 2000); return null; }
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.blob();
    }).then((blob) => {
      if (!blob) return;
      spectra.set(address, URL.createObjectURL(blob));
      for (const o of objects()) { const i = o.querySelector('.lw-audio-spectrum img'); if (i && i.dataset.src === address) i.src = spectra.get(address); }
    }).catch(() => {});
    attempt();
  }

  // the server's peaks file: "LWPK", version, channels, buckets a second, bucket count; then int8 min/max pairs
  function parse(buffer) {
    const head = new DataView(buffer, 0, 16);
    const magic = String.fromCharCode(head.getUint8(0), head.getUint8(1), head.getUint8(2), head.getUint8(3));
    if (magic !== 'LWPK' || head.getUint16(4, true) !== 1) throw new Error('not a peaks file');
    const channels = head.getUint16(6, true), rate = head.getUint32(8, true), count = head.getUint32(12, true);
    return { rate, count, channels, data: new Int8Array(buffer, 16, Math.min(count * 2 * channels, buffer.byteLength - 16)) };
  }

  function draw(obj) {
    const { wave, scroll, timeline, canvas } = parts(obj);
    const found = wave && wave.dataset.peaks && peaks.get(keyOf(wave.dataset.peaks));
    const length = lengthOf(obj);
    if (!canvas || !found || typeof found !== 'object' || !length) return;
    const width = scroll.clientWidth, height = timeline.clientHeight, full = timeline.offsetWidth;
    const ratio = window.devicePixelRatio || 1, left = scroll.scrollLeft;
    canvas.style.left = left + 'px';
    canvas.style.width = width + 'px';
    canvas.width = Math.max(1, Math.round(width * ratio));
    canvas.height = Math.max(1, Math.round(height * ratio));
    const g = canvas.getContext('2d'), { data, rate, count, channels } = found;
    // splitchannels: a band a channel, top to bottom; else every channel drawn into one
    const bands = Math.min(channels, parseInt(timeline.dataset.bands, 10) || 1), step = 2 * channels;
    const band = canvas.height / bands, mid = band / 2;
    g.fillStyle = '#3b5b8c';
    for (let px = 0; px < canvas.width; px++) {
      const t0 = (left + px / ratio) / full * length, t1 = (left + (px + 1) / ratio) / full * length;
      const b0 = Math.floor(t0 * rate), b1 = Math.min(count, Math.max(b0 + 1, Math.floor(t1 * rate)));
      if (b0 >= count) break;
      for (let k = 0; k < bands; k++) {
        let lo = 127, hi = -128;
        for (let c = bands > 1 ? k : 0; c < (bands > 1 ? k + 1 : channels); c++) {
          for (let b = b0; b < b1; b++) {
            if (data[b * step + 2 * c] < lo) lo = data[b * step + 2 * c];
            if (data[b * step + 2 * c + 1] > hi) hi = data[b * step + 2 * c + 1];
          }
        }
        const top = k * band + mid - hi / 128 * mid, bottom = k * band + mid - lo / 128 * mid;
        g.fillRect(px, top, 1, Math.max(1, bottom - top));
      }
    }
    if (!wave.dataset.drawn) wave.dataset.drawnAt = String(Math.round(performance.now()));  // ms from the page's start
    wave.dataset.drawn = 'true';
    const note = obj.querySelector('.lw-audio-wave-note');
    if (note) note.textContent = '';
  }

  document.addEventListener('scroll', (e) => {
    const scroll = e.target.classList && e.target.classList.contains('lw-audio-scroll') && e.target;
    if (!scroll) return;
    const obj = scroll.closest('.lw-audio');
    viewOf(obj).scroll = scroll.scrollLeft;
    if (!scroll.lwFrame) scroll.lwFrame = requestAnimationFrame(() => { scroll.lwFrame = 0; draw(obj); });
  }, true);
  window.addEventListener('resize', () => { for (const obj of objects()) draw(obj); });

  function tick() {
    frame = 0;
    let playing = false;
    for (const obj of objects()) {
      paint(obj);
      playing = playing || !playerOf(obj).paused;
    }
    if (playing) frame = requestAnimationFrame(tick);
  }

  // media events do not bubble: listen in the capture phase
  for (const type of ['play', 'pause', 'timeupdate', 'seeked', 'loadedmetadata', 'durationchange', 'ratechange', 'volumechange']) {
    document.addEventListener(type, (e) => {
      const obj = e.target.tagName === 'AUDIO' && e.target.closest('.lw-audio');
      if (!obj) return;
      if (type === 'loadedmetadata' || type === 'durationchange' || type === 'ratechange' || type === 'volumechange') layout(obj);
      else paint(obj);
      if (type === 'play') current = obj.dataset.name;
      if (type === 'play' && !frame) frame = requestAnimationFrame(tick);
    }, true);
  }

  // -- acting on the player ----------------------------------------------------------------------

  function toggle(obj) {
    const player = playerOf(obj);
    current = obj.dataset.name;
    if (player.paused) player.play().catch(() => say(obj, 'This audio cannot be played here.'));
    else player.pause();
  }

  function seek(obj, time) {
    const player = playerOf(obj), length = lengthOf(obj);
    current = obj.dataset.name;
    player.currentTime = Math.max(0, length ? Math.min(time, length) : time);
    reveal(obj, player.currentTime, 0.1);
    paint(obj);
  }

  // the label a new segment gets: the one pressed in a palette for this audio, else the only one there is
  function labelFor(obj) {
    const pressed = LW() && LW().activeLabel(obj.dataset.name);
    if (pressed && pressed.values.length) return pressed;
    const palettes = [...document.querySelectorAll('.lw-labels[data-control]')]
      .filter((f) => (f.dataset.to || '').split(',').map((s) => s.trim()).includes(obj.dataset.name));
    const buttons = palettes.flatMap((f) => [...f.querySelectorAll('.lw-label')]);
    if (palettes.length === 1 && buttons.length === 1) {
      return { control: palettes[0].dataset.control, type: palettes[0].dataset.type, values: [buttons[0].dataset.value] };
    }
    return null;
  }

  function markStart(obj) {
    marks.set(obj.dataset.name, playerOf(obj).currentTime);
    current = obj.dataset.name;
    layout(obj);
    say(obj, `Start marked at ${fmt(marks.get(obj.dataset.name))}: press ] at the end.`);
  }

  function markEnd(obj) {
    const name = obj.dataset.name;
    if (!marks.has(name)) { markStart(obj); return; }
    const label = labelFor(obj);
    if (!label) { say(obj, 'Press a label first (its key or its button), then mark the end again.'); return; }
    const a = marks.get(name), b = playerOf(obj).currentTime;
    const start = ms(Math.min(a, b)), end = ms(Math.max(a, b));
    if (end - start < 0.001) { say(obj, 'The segment is empty: move on before marking its end.'); return; }
    marks.delete(name);
    const item = { from_name: label.control, to_name: name, type: 'labels',
                   value: { start, end, channel: 0, labels: label.values } };
    const length = lengthOf(obj);
    if (length) item.original_length = length;
    LW().addRegion(item, { select: false });
    say(obj, `Segment ${fmt(start)} to ${fmt(end)} added.`);
  }

  // -- clicks and the player's own controls ------------------------------------------------------

  document.addEventListener('click', (e) => {
    const obj = e.target.closest && e.target.closest('.lw-audio');
    if (!obj || !playerOf(obj)) return;
    if (quiet && e.target.closest('.lw-audio-timeline')) {
      e.stopPropagation();  // the end of a drag: the drag did the work
      return;
    }
    const button = e.target.closest('[data-audio]');
    if (button && button.tagName === 'BUTTON') {
      if (button.dataset.audio === 'play') toggle(obj);
      else if (button.dataset.audio === 'mark') (marks.has(obj.dataset.name) ? markEnd : markStart)(obj);
      else if (button.dataset.audio === 'zoom-in') zoomBy(obj, 2);
      else if (button.dataset.audio === 'zoom-out') zoomBy(obj, 0.5);
      return;
    }
    const segment = e.target.closest('.lw-audio-segment, .lw-audio-seek');
    if (segment) {
      e.stopPropagation();  // not the region row's own click (which toggles the selection)
      const region = segment.dataset.region || segment.closest('.lw-region').dataset.region;
      seek(obj, parseFloat(segment.dataset.start || segment.dataset.seek));
      if (LW()) LW().select(region);
      return;
    }
    const timeline = e.target.closest('.lw-audio-timeline');
    const length = lengthOf(obj);
    if (timeline && length) {
      const box = timeline.getBoundingClientRect();
      seek(obj, (e.clientX - box.left) / box.width * length);
    }
  }, true);

  // -- drags on the waveform: with a label pressed, a new segment; on a segment, move it; on its edge, resize

  function timeAt(obj, clientX) {
    const box = parts(obj).timeline.getBoundingClientRect(), length = lengthOf(obj);
    return Math.min(length, Math.max(0, (clientX - box.left) / box.width * length));
  }

  function place(el, start, end, length) {
    el.style.left = (start / length * 100) + '%';
    el.style.width = ((end - start) / length * 100) + '%';
  }

  document.addEventListener('pointerdown', (e) => {
    const timeline = e.button === 0 && e.target.closest && e.target.closest('.lw-audio-wave .lw-audio-timeline');
    const obj = timeline && timeline.closest('.lw-audio');
    if (!obj || !playerOf(obj) || !lengthOf(obj) || !LW()) return;
    const seg = e.target.closest('button.lw-audio-segment');
    const t = timeAt(obj, e.clientX);
    if (seg) {
      const edge = e.target.closest('.lw-audio-edge');
      drag = { name: obj.dataset.name, mode: edge ? edge.dataset.edge : 'move', id: seg.dataset.region, x0: e.clientX, t0: t,
               start: parseFloat(seg.dataset.start), end: parseFloat(seg.dataset.end), moved: false };
    } else {
      const box = timeline.getBoundingClientRect(), bands = parseInt(timeline.dataset.bands, 10) || 1;
      const channel = Math.min(bands - 1, Math.max(0, Math.floor((e.clientY - box.top) / box.height * bands)));
      drag = { name: obj.dataset.name, mode: 'new', x0: e.clientX, t0: t, start: t, end: t, moved: false, label: labelFor(obj),
               channel };
    }
    current = obj.dataset.name;
  });

  // the segment a drag would make: start <= end, inside the file
  function dragged(drag, obj, clientX) {
    const length = lengthOf(obj), t = timeAt(obj, clientX), d = t - drag.t0;
    if (drag.mode === 'new') return [Math.min(drag.t0, t), Math.max(drag.t0, t)];
    if (drag.mode === 'move') {
      const shift = Math.min(length - drag.end, Math.max(-drag.start, d));
      return [drag.start + shift, drag.end + shift];
    }
    if (drag.mode === 'start') return [Math.min(drag.end - 0.01, Math.max(0, drag.start + d)), drag.end];
    return [drag.start, Math.max(drag.start + 0.01, Math.min(length, drag.end + d))];
  }

  window.addEventListener('pointermove', (e) => {
    if (!drag) return;
    const obj = objectNamed(drag.name);
    if (!obj) { drag = null; return; }
    if (!drag.moved && Math.abs(e.clientX - drag.x0) < NUDGE) return;
    if (!drag.moved && drag.mode === 'new' && !drag.label) {
      say(obj, 'Press a label first (its key or its button), then drag on the waveform to make a segment.');
      drag = null;
      return;
    }
    drag.moved = true;
    const [start, end] = dragged(drag, obj, e.clientX), length = lengthOf(obj);
    let el = drag.mode === 'new' ? obj.querySelector('.lw-audio-ghost')
      : obj.querySelector(`.lw-audio-segment[data-region="${CSS.escape(drag.id)}"]`);
    if (!el && drag.mode === 'new') {
      el = document.createElement('span');
      el.className = 'lw-audio-ghost';
      parts(obj).timeline.appendChild(el);
    }
    if (el) place(el, start, end, length);
    e.preventDefault();
  });

  window.addEventListener('pointerup', (e) => {
    const was = drag;
    drag = null;
    const obj = was && was.moved && objectNamed(was.name);
    if (!obj) return;
    quiet = true;
    setTimeout(() => { quiet = false; }, 0);
    const [a, b] = dragged(was, obj, e.clientX), start = ms(a), end = ms(b);
    const ghost = obj.querySelector('.lw-audio-ghost');
    if (ghost) ghost.remove();
    if (was.mode === 'new') {
      if (end - start < 0.001) return;
      const item = { from_name: was.label.control, to_name: was.name, type: 'labels',
                     value: { start, end, channel: was.channel, labels: was.label.values }, original_length: lengthOf(obj) };
      LW().addRegion(item, { select: false });
      say(obj, `Segment ${fmt(start)} to ${fmt(end)} added.`);
    } else {
      LW().select(was.id);
      LW().updateRegion(was.id, { start, end });
      say(obj, `Segment now ${fmt(start)} to ${fmt(end)}.`);
    }
  });
  window.addEventListener('pointercancel', () => { drag = null; });

  // the selected segment of this audio, from its bar on the timeline
  function selectedSegment(obj) {
    const id = LW() && LW().selected();
    const seg = id && obj.querySelector(`.lw-audio-segment[data-region="${CSS.escape(id)}"]`);
    return seg ? { id, start: parseFloat(seg.dataset.start), end: parseFloat(seg.dataset.end) } : null;
  }

  // Alt+arrows move the selected segment, Alt+[ and Alt+] set its start or end to the playback position
  function adjust(obj, e) {
    const seg = selectedSegment(obj);
    if (!seg) { say(obj, 'Select a segment first (click it), then Alt+arrows move it, Alt+[ and Alt+] set its edges.'); return; }
    const length = lengthOf(obj) || Infinity, now = playerOf(obj).currentTime;
    let { start, end } = seg;
    if (e.code === 'BracketLeft') start = Math.min(now, end - 0.001);
    else if (e.code === 'BracketRight') end = Math.max(now, start + 0.001);
    else {
      const d = (e.key === 'ArrowRight' ? 1 : -1) * (e.shiftKey ? 1 : STEP);
      const shift = Math.min(length - end, Math.max(-start, d));
      start += shift;
      end += shift;
    }
    LW().updateRegion(seg.id, { start: ms(start), end: ms(end) });
    say(obj, `Segment now ${fmt(ms(start))} to ${fmt(ms(end))}.`);
  }

  // speed, volume and "go to" act on the player; they are not part of the annotation, so the form
  // does not hear them (no draft is saved for them)
  window.addEventListener('change', (e) => {
    const control = e.target.closest && e.target.closest('.lw-audio [data-audio]');
    if (!control) return;
    e.stopPropagation();
    const obj = control.closest('.lw-audio'), player = playerOf(obj);
    if (control.dataset.audio === 'speed') player.playbackRate = parseFloat(control.value) || 1;
    if (control.dataset.audio === 'volume') player.volume = parseFloat(control.value);
    if (control.dataset.audio === 'goto' && control.value !== '' && Number.isFinite(parseFloat(control.value))) {
      seek(obj, parseFloat(control.value));
    }
  }, true);
  window.addEventListener('input', (e) => {
    const control = e.target.closest && e.target.closest('.lw-audio [data-audio=volume]');
    if (control) playerOf(control.closest('.lw-audio')).volume = parseFloat(control.value);
  }, true);

  // -- keys ---------------------------------------------------------------------------------------

  function typing(target) {
    return target.matches && target.matches('textarea, select, [contenteditable], input:not([type=radio]):not([type=checkbox]):not([type=hidden]):not([type=range]):not([type=button])');
  }

  function combo(e) {
    const parts = [];
    if (e.ctrlKey || e.metaKey) parts.push('ctrl');
    if (e.altKey) parts.push('alt');
    if (e.shiftKey) parts.push('shift');
    parts.push(e.key === ' ' ? 'space' : e.key.toLowerCase());
    return parts.join('+');
  }

  function taken(keys) {
    const root = document.querySelector('.lw-workspace[data-keymap]');
    return !!root && Object.values(JSON.parse(root.dataset.keymap || '{}')).includes(keys);
  }

  // a key no workspace action and no label or choice uses
  function free(key) {
    return !taken(key) && ![...document.querySelectorAll('[data-hotkey]')].some((el) => (el.dataset.hotkey || '').toLowerCase() === key);
  }

  // capture phase on window: before workspace.js, so space and arrows do not also act on the form
  window.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && e.target.matches && e.target.matches('.lw-audio [data-audio=goto]')) {
      e.preventDefault();  // "go to" seeks; Enter there must not submit the form
      e.stopImmediatePropagation();
      const value = parseFloat(e.target.value);
      if (Number.isFinite(value)) seek(e.target.closest('.lw-audio'), value);
      return;
    }
    if (e.isComposing || typing(e.target)) return;
    const help = document.getElementById('lw-help');
    if (help && help.open) return;
    const obj = objectNamed(current) || objects()[0];
    if (!obj) return;
    const consume = () => { e.preventDefault(); e.stopImmediatePropagation(); };
    const keys = combo(e);
    if (obj.dataset.hotkeyPlay && keys === obj.dataset.hotkeyPlay && keys !== 'space' && !taken(keys)) { consume(); toggle(obj); return; }
    if (e.altKey && !e.ctrlKey && !e.metaKey && (e.key === 'ArrowLeft' || e.key === 'ArrowRight' || e.code === 'BracketLeft'
        || e.code === 'BracketRight') && !taken(keys)) {
      consume();
      adjust(obj, e);
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if ((e.key === '+' || e.key === '=' || e.key === '-') && free(e.key) && obj.querySelector('.lw-audio-wave')) {
      consume();
      zoomBy(obj, e.key === '-' ? 0.5 : 2);
      return;
    }
    const inAudio = !!e.target.closest('.lw-audio');
    if (e.key === ' ') {
      // a focused button, link or box elsewhere keeps its own space (except the label buttons)
      if (e.target.matches('button, a, summary, input') && !inAudio && !e.target.classList.contains('lw-label')) return;
      consume();
      toggle(obj);
    } else if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
      if (e.target.closest('.lw-text-body') || e.target.matches('input[type=range], input[type=radio]')) return;
      consume();
      seek(obj, playerOf(obj).currentTime + (e.key === 'ArrowRight' ? 1 : -1) * (e.shiftKey ? 5 : 1));
    } else if (e.key === '[' && !taken('[')) {
      consume();
      markStart(obj);
    } else if (e.key === ']' && !taken(']')) {
      consume();
      markEnd(obj);
    }
  }, true);

  document.addEventListener('lw:rendered', setup);
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', setup);
  else setup();
})();
