/* Labelwell brush tools: paint, erase and fill masks on an <Image> for <BrushLabels> and <Brush>.
   The server shows each mask as a PNG (img.lw-mask) made from its RLE; while a stroke is under way
   the mask is a canvas at the image's natural size, set pixel by pixel here (a dab sets the pixels
   whose centres lie within the brush's radius; a fill, those inside the polygon), never anti-aliased,
   so what was painted is exactly what is stored. At the end of a stroke the canvas goes to the server
   as a PNG in the region's value ({format: "png", png}), which turns it into Label Studio's RLE.
   Each stroke is one change, so the workspace's undo and redo step through strokes. */
(() => {
  'use strict';
  const SIZES = [1, 2, 3, 5, 8, 12, 16, 20, 30, 40, 60, 80, 120, 160, 240];
  const TOOLS = { b: 'brush', e: 'eraser', f: 'fill' };
  let sizeIndex = SIZES.indexOf(20);
  let stroke = null;         // the mask being painted: { key, canvas, image, bits, id, label, erase, last }
  const fills = new Map();   // image key -> the polygon being filled, in natural pixels
  let current = null;        // the image key the keys act on
  const painted = new Map(); // mask id -> the canvas of its last stroke, until the server shows it

  const LW = () => window.Labelwell;
  const esc = (s) => CSS.escape(s);
  const objects = () => [...document.querySelectorAll('.lw-image.lw-image-edit')].filter((o) => o.querySelector('[data-tool="brush"]'));
  const keyOf = (obj) => obj.dataset.key || obj.dataset.name;
  const byKey = (key) => objects().find((o) => keyOf(o) === key) || null;
  const picture = (obj) => obj.querySelector('.lw-image-frame img:not(.lw-mask)');
  const size = () => SIZES[sizeIndex];

  function itemOf(id) {
    const input = id && document.querySelector(`.lw-region[data-region="${esc(id)}"] input[name="region"]`);
    try { return input ? JSON.parse(input.value) : null; } catch { return null; }
  }

  function flash(obj, text) {
    const status = obj.querySelector('.lw-image-status');
    if (!status) return;
    status.textContent = text;
    clearTimeout(flash.timer);
    flash.timer = setTimeout(() => { status.textContent = ''; }, 3000);
  }

  function showSize() {
    for (const el of document.querySelectorAll('.lw-brush-size')) el.textContent = `Brush ${size()} px`;
  }

  // the pointer in the image's natural pixels, rounded to a pixel corner
  function at(obj, e) {
    const pic = picture(obj), r = pic.getBoundingClientRect();
    const x = (e.clientX - r.left) / r.width * pic.naturalWidth, y = (e.clientY - r.top) / r.height * pic.naturalHeight;
    return [Math.round(Math.min(pic.naturalWidth, Math.max(0, x))), Math.round(Math.min(pic.naturalHeight, Math.max(0, y)))];
  }

  // -- which mask a stroke paints ------------------------------------------------------------------

  function colorOf(control, value) {
    const button = document.querySelector(`.lw-labels[data-control="${esc(control)}"] .lw-label[data-value="${esc(value || '')}"]`);
    return (button && button.style.getPropertyValue('--lw-color').trim()) || '#ff4040';
  }

  // the pressed brush label on this image, or the label-less <Brush> control
  function brushLabel(obj) {
    const active = LW().activeLabel(obj.dataset.name);
    if (active && /^brush/.test(active.type) && active.values.length) return active;
    for (const fs of document.querySelectorAll('fieldset.lw-labels[data-type="brushlabels"]')) {
      if (!(fs.dataset.to || '').split(',').map((s) => s.trim()).includes(obj.dataset.name)) continue;
      const values = [...fs.querySelectorAll('.lw-label[aria-pressed="true"]')].map((b) => b.dataset.value).filter(Boolean);
      if (values.length) return { control: fs.dataset.control, type: fs.dataset.type, values };
    }
    const tool = obj.querySelector('button[data-tool="brush"]');
    return tool && tool.dataset.freeControl ? { control: tool.dataset.freeControl, type: tool.dataset.freeType, values: [] } : null;
  }

  // the selected mask, if it is on this image (this page of a multi-page one)
  function selectedMask(obj) {
    const id = LW().selected(), item = itemOf(id);
    if (!item || !(item.value && item.value.format) || item.to_name !== obj.dataset.name) return null;
    if (obj.dataset.item !== undefined && Number(obj.dataset.item) !== (item.item_index || 0)) return null;
    return item;
  }

  const sameLabels = (item, label) => item.from_name === label.control &&
    JSON.stringify((item.value[label.type] || []).slice().sort()) === JSON.stringify(label.values.slice().sort());

  // what a stroke with `tool` paints: the selected mask (erasing, or painting its own label), or a new mask
  function target(obj, tool) {
    const selected = selectedMask(obj), label = brushLabel(obj);
    if (tool === 'eraser') return selected ? { item: selected } : flash(obj, 'Select a mask to erase from (in the region list).');
    if (selected && (!label || sameLabels(selected, label))) return { item: selected };
    if (!label) return flash(obj, 'Pick a label first, then paint.');
    return { label };
  }

  // -- the canvas ------------------------------------------------------------------------------------

  function begin(obj, tool) {
    const pic = picture(obj), found = target(obj, tool);
    if (!found) return null;
    if (!pic.naturalWidth) { flash(obj, 'The image has not loaded yet.'); return null; }
    const w = pic.naturalWidth, h = pic.naturalHeight, canvas = document.createElement('canvas');
    canvas.width = w; canvas.height = h;
    canvas.className = 'lw-mask-canvas';
    if (found.item) canvas.dataset.region = found.item.id;
    canvas.setAttribute('aria-hidden', 'true');
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    const id = found.item ? found.item.id : null, shown = id && obj.querySelector(`img.lw-mask[data-region="${esc(id)}"]`);
    // a stroke sent but not yet rendered by the server is on the canvas it was painted on
    const source = id && found.item.value.format === 'png' ? painted.get(id) : shown;
    if (id && !(source && (source.tagName === 'CANVAS' || source.complete))) { flash(obj, 'The mask is still loading.'); return null; }
    if (source) ctx.drawImage(source, 0, 0, w, h);
    for (const old of obj.querySelectorAll(`canvas.lw-mask-canvas[data-region="${esc(id || '')}"]`)) old.remove();
    const image = ctx.getImageData(0, 0, w, h), bits = new Uint8Array(w * h);
    for (let i = 0; i < bits.length; i++) bits[i] = image.data[i * 4 + 3] > 0 ? 1 : 0;
    const label = found.label || { control: found.item.from_name, type: found.item.type, values: found.item.value[found.item.type] || [] };
    const rgb = hex(colorOf(label.control, label.values[0]));
    for (let i = 0; i < bits.length; i++) if (bits[i]) image.data.set(rgb, i * 4);
    if (shown) shown.classList.add('lw-editing');
    pic.after(canvas);
    return { key: keyOf(obj), canvas, ctx, image, bits, w, h, rgb, id, label, item: found.item, erase: tool === 'eraser', last: null };
  }

  function hex(color) {
    const probe = document.createElement('canvas').getContext('2d');
    probe.fillStyle = color;
    const v = probe.fillStyle; // normalised to #rrggbb (or rgba(...) for a colour with alpha)
    if (v[0] === '#') return [parseInt(v.slice(1, 3), 16), parseInt(v.slice(3, 5), 16), parseInt(v.slice(5, 7), 16), 255];
    const m = v.match(/[\d.]+/g) || [255, 64, 64];
    return [Number(m[0]), Number(m[1]), Number(m[2]), 255];
  }

  function setPixel(s, i) {
    s.bits[i] = s.erase ? 0 : 1;
    if (s.erase) s.image.data.fill(0, i * 4, i * 4 + 4); else s.image.data.set(s.rgb, i * 4);
  }

  // the pixels whose centres are within the brush's radius of (cx, cy)
  function dab(s, cx, cy) {
    const r = size() / 2, r2 = r * r;
    const x0 = Math.max(0, Math.floor(cx - r)), x1 = Math.min(s.w - 1, Math.ceil(cx + r));
    const y0 = Math.max(0, Math.floor(cy - r)), y1 = Math.min(s.h - 1, Math.ceil(cy + r));
    for (let y = y0; y <= y1; y++) {
      const dy = y + 0.5 - cy;
      for (let x = x0; x <= x1; x++) {
        const dx = x + 0.5 - cx;
        if (dx * dx + dy * dy <= r2) setPixel(s, y * s.w + x);
      }
    }
    return [x0, y0, x1, y1];
  }

  // dabs a quarter of the brush apart from the last point to this one (one dab for a press)
  function line(s, to) {
    const from = s.last || to;
    const steps = Math.max(1, Math.ceil(Math.hypot(to[0] - from[0], to[1] - from[1]) / Math.max(1, size() / 4)));
    let box = null;
    for (let k = s.last ? 1 : steps; k <= steps; k++) {
      const t = k / steps, b = dab(s, from[0] + (to[0] - from[0]) * t, from[1] + (to[1] - from[1]) * t);
      box = box ? [Math.min(box[0], b[0]), Math.min(box[1], b[1]), Math.max(box[2], b[2]), Math.max(box[3], b[3])] : b;
    }
    s.last = to;
    show(s, box);
  }

  function show(s, box) {
    if (box[2] >= box[0] && box[3] >= box[1]) s.ctx.putImageData(s.image, 0, 0, box[0], box[1], box[2] - box[0] + 1, box[3] - box[1] + 1);
  }

  // pixels whose centres are inside the polygon (even-odd), a row at a time
  function fillPolygon(s, points) {
    const ys = points.map((p) => p[1]);
    const top = Math.max(0, Math.floor(Math.min(...ys))), bottom = Math.min(s.h - 1, Math.ceil(Math.max(...ys)));
    for (let y = top; y <= bottom; y++) {
      const cy = y + 0.5, xs = [];
      for (let i = 0; i < points.length; i++) {
        const [ax, ay] = points[i], [bx, by] = points[(i + 1) % points.length];
        if ((ay <= cy && cy < by) || (by <= cy && cy < ay)) xs.push(ax + (cy - ay) / (by - ay) * (bx - ax));
      }
      xs.sort((a, b) => a - b);
      for (let k = 0; k + 1 < xs.length; k += 2) {
        const from = Math.max(0, Math.ceil(xs[k] - 0.5)), to = Math.min(s.w, Math.ceil(xs[k + 1] - 0.5));
        for (let x = from; x < to; x++) setPixel(s, y * s.w + x);
      }
    }
    show(s, [0, top, s.w - 1, bottom]);
  }

  // the stroke done: a new mask, the changed one, or (erased to nothing) no mask
  function finish(s) {
    stroke = null;
    const any = s.bits.some((b) => b === 1);
    const obj = byKey(s.key);
    if (!s.id) {
      if (!any) { s.canvas.remove(); return; }
      const pic = obj && picture(obj);
      const item = { from_name: s.label.control, to_name: obj.dataset.name, type: s.label.type, origin: 'manual',
        value: { format: 'png', png: s.canvas.toDataURL('image/png') },
        original_width: s.w, original_height: s.h, image_rotation: 0 };
      if (s.label.values.length || s.label.type === 'brushlabels') item.value[s.label.type] = s.label.values;
      if (obj.dataset.item !== undefined) item.item_index = Number(obj.dataset.item);
      if (pic) painted.set(s.canvas.dataset.region = LW().addRegion(item), s.canvas);
    } else if (!any) {
      LW().deleteRegion(s.id);
    } else {
      painted.set(s.id, s.canvas);
      LW().updateRegion(s.id, { format: 'png', png: s.canvas.toDataURL('image/png'), rle: undefined });
    }
  }

  // -- fill polygons -----------------------------------------------------------------------------------

  function drawFill(obj) {
    const frame = obj.querySelector('.lw-image-frame'), pic = picture(obj), points = fills.get(keyOf(obj));
    let draft = frame && frame.querySelector('canvas.lw-fill-draft');
    if (!points) { if (draft) draft.remove(); return; }
    if (!draft) {
      draft = document.createElement('canvas');
      draft.className = 'lw-fill-draft';
      draft.setAttribute('aria-hidden', 'true');
      frame.appendChild(draft);
    }
    const scale = Math.min(1, 2048 / Math.max(pic.naturalWidth, pic.naturalHeight));
    draft.width = Math.round(pic.naturalWidth * scale); draft.height = Math.round(pic.naturalHeight * scale);
    const ctx = draft.getContext('2d');
    ctx.strokeStyle = '#111'; ctx.fillStyle = 'rgba(36, 86, 211, 0.25)'; ctx.lineWidth = 2;
    ctx.beginPath();
    points.forEach(([x, y], i) => (i ? ctx.lineTo(x * scale, y * scale) : ctx.moveTo(x * scale, y * scale)));
    ctx.closePath(); ctx.fill(); ctx.stroke();
  }

  function closeFill(obj) {
    const points = fills.get(keyOf(obj));
    if (!points || points.length < 3) return flash(obj, 'A fill needs at least 3 points.');
    const s = begin(obj, 'fill');
    if (!s) return;
    fills.delete(keyOf(obj));
    drawFill(obj);
    fillPolygon(s, points);
    finish(s);
  }

  // -- pointer, keys ------------------------------------------------------------------------------------

  document.addEventListener('pointerdown', (e) => {
    const frame = e.button === 0 && LW() && e.target.closest('.lw-image-edit .lw-image-frame');
    const obj = frame && frame.closest('.lw-image'), tool = obj && obj.dataset.tool;
    if (!tool || !['brush', 'eraser', 'fill'].includes(tool)) return;
    current = keyOf(obj);
    e.preventDefault();
    if (tool === 'fill') {
      if (!fills.has(current)) fills.set(current, []);
      fills.get(current).push(at(obj, e));
      drawFill(obj);
      return;
    }
    stroke = begin(obj, tool);
    if (!stroke) return;
    frame.setPointerCapture(e.pointerId);
    line(stroke, at(obj, e));
  });

  document.addEventListener('pointermove', (e) => {
    const obj = stroke && byKey(stroke.key);
    if (obj) line(stroke, at(obj, e));
  });

  document.addEventListener('pointerup', () => { if (stroke) finish(stroke); });
  document.addEventListener('pointercancel', () => { if (stroke) finish(stroke); });

  // a click on a mask with the Select tool selects it: the topmost mask with a pixel under the pointer
  // (after image-tools.js, which unselects on a click on the bare picture)
  document.addEventListener('click', (e) => {
    const frame = LW() && e.target.closest('.lw-image-edit .lw-image-frame');
    const obj = frame && frame.closest('.lw-image');
    if (!obj || obj.dataset.tool !== 'select' || e.target.closest('.lw-overlay [data-region]')) return;
    const [x, y] = at(obj, e), probe = document.createElement('canvas').getContext('2d', { willReadFrequently: true });
    for (const shown of [...frame.querySelectorAll('img.lw-mask')].reverse()) {
      probe.canvas.width = 1; probe.canvas.height = 1;  // (also clears it)
      probe.drawImage(shown, -Math.min(x, shown.naturalWidth - 1), -Math.min(y, shown.naturalHeight - 1));
      if (probe.getImageData(0, 0, 1, 1).data[3] > 0) { LW().select(shown.dataset.region); return; }
    }
  });

  const typing = (t) => t.isContentEditable || /^(TEXTAREA|SELECT)$/.test(t.tagName) ||
    (t.tagName === 'INPUT' && !/^(button|checkbox|radio|submit|reset|range|color|file|image)$/.test(t.type));
  const taken = (key) => (LW() && LW().keyTaken(key)) || document.querySelector(`[data-hotkey="${esc(key)}" i]`);

  window.addEventListener('keydown', (e) => {
    if (typing(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
    const obj = byKey(current) || objects()[0];
    if (!obj) return;
    const consume = () => { e.preventDefault(); e.stopImmediatePropagation(); };
    const points = fills.get(keyOf(obj));
    if (points && ['Enter', 'Escape', 'Backspace'].includes(e.key)) {
      consume();
      if (e.key === 'Enter') closeFill(obj);
      else { if (e.key === 'Escape' || points.length < 2) fills.delete(keyOf(obj)); else points.pop(); drawFill(obj); }
      return;
    }
    if ((e.key === '[' || e.key === ']') && !taken(e.key)) {
      consume();
      sizeIndex = Math.min(SIZES.length - 1, Math.max(0, sizeIndex + (e.key === ']' ? 1 : -1)));
      showSize();
      flash(obj, `Brush size ${size()} px`);
      return;
    }
    const tool = TOOLS[e.key.toLowerCase()], button = tool && !e.shiftKey && obj.querySelector(`button[data-tool="${tool}"]`);
    if (button && !taken(e.key.toLowerCase())) { consume(); current = keyOf(obj); button.click(); }
  }, true);

  // a re-render mid-stroke replaced the frame: put the canvas into the new one
  document.addEventListener('lw:rendered', () => {
    showSize();
    for (const id of [...painted.keys()]) if (!document.querySelector(`.lw-region[data-region="${esc(id)}"]`) ||
      (itemOf(id) || { value: {} }).value.format === 'rle') painted.delete(id);
    for (const obj of objects()) drawFill(obj);
    const obj = stroke && byKey(stroke.key);
    if (!obj) return;
    picture(obj).after(stroke.canvas);
    const shown = stroke.id && obj.querySelector(`img.lw-mask[data-region="${esc(stroke.id)}"]`);
    if (shown) shown.classList.add('lw-editing');
  });
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', showSize); else showSize();
})();
