/* Labelwell audio tools: the player of an <Audio> (components/audio.html), its timeline of segments, and
   the keys that make segments while it plays. Loaded (defer) after workspace.js; a new segment goes
   through window.Labelwell.addRegion like any region. The server re-renders the form after each change;
   the <audio> element itself survives that (hx-preserve), so playback goes on, and everything else here
   is redrawn from it on lw:rendered. Keys: space plays/pauses, arrows seek 1 s (Shift: 5 s), [ marks a
   segment's start and ] its end with the pressed label (or the only label there is). */
(() => {
  'use strict';
  const LW = () => window.Labelwell;
  const marks = new Map();   // audio name -> the start time marked, waiting for its end
  const started = new WeakSet();  // players whose config defaults (speed, volume) were applied
  let current = null;        // the name of the audio keys act on: the last one used
  let frame = 0;

  const objects = () => [...document.querySelectorAll('.lw-audio')].filter((o) => o.querySelector('audio'));
  const objectNamed = (name) => objects().find((o) => o.dataset.name === name) || null;
  const playerOf = (obj) => obj.querySelector('audio');
  const ms = (t) => Math.round(t * 1000) / 1000;
  const fmt = (t) => (Number.isFinite(t) ? t : 0).toFixed(2) + ' s';

  function lengthOf(obj) {
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
    if (cursor && length) cursor.style.left = Math.min(100, player.currentTime / length * 100) + '%';
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
    }
  }

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
    const button = e.target.closest('[data-audio]');
    if (button && button.tagName === 'BUTTON') {
      if (button.dataset.audio === 'play') toggle(obj);
      else if (button.dataset.audio === 'mark') (marks.has(obj.dataset.name) ? markEnd : markStart)(obj);
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
    if (e.ctrlKey || e.metaKey || e.altKey) return;
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
