/* Labelwell image tools: draw, select, move and resize regions on an <Image>, and zoom it.
   Loaded (defer) after workspace.js; every change goes through window.Labelwell. The server re-renders
   the whole form after each save, so handlers are delegated on document, and what must outlive a render
   (tool, zoom, scroll, an unfinished polygon) is kept here per image, by its data-name. Geometry is in
   percent of the image, measured from the <img>'s on-screen box, so zoom and scroll need no special case. */
(() => {
  'use strict';
  const MIN_DRAG = 3;          // screen px: a shorter press-move-release is a click
  const CLOSE_DIST = 8;        // screen px: a click this near a polygon's first point closes it
  const KEYPOINT_WIDTH = 0.6;  // percent, as Label Studio writes key points
  const ZOOMS = [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 6, 8];
  const FIT = ZOOMS.indexOf(1);
  const KEYS = { v: 'select', r: 'rectangle', p: 'polygon', k: 'keypoint' };
  const CORNERS = ['nw', 'ne', 'sw', 'se'];
  const MASK_TOOLS = new Set(['brush', 'eraser', 'fill']);

  const state = new Map(); // image name -> { tool, zoom (index in ZOOMS), left, top (scroll), points }
  let current = null;      // the image keys act on: the last one used
  let drag = null;         // the pointer gesture under way

  const LW = () => window.Labelwell;
  const r4 = (v) => Math.round(v * 1e4) / 1e4;
  const clamp = (v, lo = 0, hi = 100) => Math.min(hi, Math.max(lo, v));
  const kindOf = (type) => String(type || '').replace(/labels$/, '');
  const esc = (s) => CSS.escape(s);
  const objects = () => [...document.querySelectorAll('.lw-image.lw-image-edit')];
  // an image is known by its key: its name, or name:index for one page of a valueList
  const keyOf = (obj) => obj.dataset.key || obj.dataset.name;
  const objectKeyed = (key) => objects().find((o) => keyOf(o) === key) || null;
  const img = (obj) => obj.querySelector('.lw-image-frame img');

  function stateOf(key) {
    if (!state.has(key)) state.set(key, { tool: 'select', zoom: FIT, left: 0, top: 0, points: null });
    return state.get(key);
  }

  // the pointer in percent of the image, kept inside it
  function pct(obj, e) {
    const r = img(obj).getBoundingClientRect();
    return { x: clamp((e.clientX - r.left) / r.width * 100), y: clamp((e.clientY - r.top) / r.height * 100) };
  }

  // SVG user units per percent: the overlay's viewBox is the original pixel size, or 100 x 100
  function units(obj) {
    const vb = obj.querySelector('.lw-overlay').viewBox.baseVal;
    return [vb.width / 100, vb.height / 100];
  }

  // a region's result item, from the hidden input the form submits
  function itemOf(id) {
    const input = document.querySelector(`.lw-region[data-region="${esc(id)}"] input[name="region"]`);
    try { return input ? JSON.parse(input.value) : null; } catch { return null; }
  }

  function flash(obj, text) {
    const status = obj.querySelector('.lw-image-status');
    if (status) {
      status.textContent = text;
      clearTimeout(flash.timer);
      flash.timer = setTimeout(() => { status.textContent = ''; }, 3000);
    }
    return false;
  }

  // -- geometry ------------------------------------------------------------------------------------

  // the box between two points; rounding the corners first keeps x + width within 100
  function box(a, b) {
    const x1 = r4(Math.min(a.x, b.x)), x2 = r4(Math.max(a.x, b.x));
    const y1 = r4(Math.min(a.y, b.y)), y2 = r4(Math.max(a.y, b.y));
    return { x: x1, y: y1, width: r4(x2 - x1), height: r4(y2 - y1) };
  }

  // a region's value moved by (dx, dy) percent, as far as the image allows
  function moved(item, dx, dy) {
    const v = item.value, kind = kindOf(item.type);
    if (kind === 'polygon') {
      const xs = v.points.map((p) => p[0]), ys = v.points.map((p) => p[1]);
      dx = clamp(dx, -Math.min(...xs), 100 - Math.max(...xs));
      dy = clamp(dy, -Math.min(...ys), 100 - Math.max(...ys));
      return { points: v.points.map(([x, y]) => [clamp(r4(x + dx)), clamp(r4(y + dy))]) };
    }
    if (kind === 'rectangle' && !v.rotation) {
      // Math.min after rounding: a rounded-up x would push the box past 100
      return { x: Math.min(r4(clamp(v.x + dx, 0, 100 - v.width)), 100 - v.width),
               y: Math.min(r4(clamp(v.y + dy, 0, 100 - v.height)), 100 - v.height) };
    }
    return { x: clamp(r4(v.x + dx)), y: clamp(r4(v.y + dy)) }; // key point, or a rotated box's corner
  }

  // a box with one corner dragged to p: the opposite corner stays (dragging past it flips the box)
  function resized(v, corner, p) {
    const fixed = { x: corner[1] === 'w' ? v.x + v.width : v.x, y: corner[0] === 'n' ? v.y + v.height : v.y };
    return box(fixed, p);
  }

  // -- drawing on the overlay ----------------------------------------------------------------------

  function paintShape(obj, id, kind, v) {
    const el = obj.querySelector(`.lw-overlay [data-region="${esc(id)}"]`);
    if (!el) return;
    const [sx, sy] = units(obj);
    if (kind === 'rectangle') {
      el.setAttribute('x', v.x * sx); el.setAttribute('y', v.y * sy);
      el.setAttribute('width', v.width * sx); el.setAttribute('height', v.height * sy);
      el.setAttribute('transform', `rotate(${v.rotation || 0} ${v.x * sx} ${v.y * sy})`);
    } else if (kind === 'polygon') {
      el.setAttribute('points', v.points.map(([x, y]) => `${x * sx},${y * sy}`).join(' '));
    } else {
      el.setAttribute('cx', v.x * sx); el.setAttribute('cy', v.y * sy);
    }
  }

  // the box being drawn, or the unfinished polygon (its points as HTML dots, which stay round
  // however the viewBox is stretched); `cursor` draws the polygon's next edge to the pointer
  function paintDraft(obj, rect, cursor) {
    const svg = obj.querySelector('.lw-overlay'), frame = obj.querySelector('.lw-image-frame');
    if (!svg) return;
    const points = stateOf(keyOf(obj)).points;
    let g = svg.querySelector('.lw-draft');
    frame.querySelectorAll('.lw-draft-point').forEach((d) => d.remove());
    if (!rect && !points) { if (g) g.remove(); return; }
    if (!g) {
      g = document.createElementNS('http://www.w3.org/2000/svg', 'g');
      g.setAttribute('class', 'lw-draft');
      svg.append(g);
    }
    const [sx, sy] = units(obj);
    if (rect) {
      g.innerHTML = `<rect x="${rect.x * sx}" y="${rect.y * sy}" width="${rect.width * sx}" height="${rect.height * sy}"/>`;
      return;
    }
    const line = cursor ? [...points, [cursor.x, cursor.y]] : points;
    g.innerHTML = `<polyline points="${line.map(([x, y]) => `${x * sx},${y * sy}`).join(' ')}"/>`;
    points.forEach(([x, y], i) => {
      const dot = document.createElement('div');
      dot.className = i ? 'lw-draft-point' : 'lw-draft-point lw-draft-start';
      dot.style.left = `${x}%`; dot.style.top = `${y}%`;
      frame.append(dot);
    });
  }

  // corner handles on the selected box, placed from the drawn shape so they follow a drag at once
  function refreshHandles() {
    const id = LW() && LW().selected();
    for (const obj of objects()) {
      const frame = obj.querySelector('.lw-image-frame');
      if (!frame) continue;
      const rect = id && frame.querySelector(`rect[data-region="${esc(id)}"]`);
      const rotation = rect && parseFloat((/rotate\(\s*([-\d.e]+)/.exec(rect.getAttribute('transform') || '') || [])[1]);
      if (!rect || rotation) { frame.querySelectorAll('.lw-handle').forEach((h) => h.remove()); continue; }
      const [sx, sy] = units(obj);
      const x = rect.x.baseVal.value / sx, y = rect.y.baseVal.value / sy;
      const w = rect.width.baseVal.value / sx, h = rect.height.baseVal.value / sy;
      for (const corner of CORNERS) {
        let handle = frame.querySelector(`.lw-handle[data-handle="${corner}"]`);
        if (!handle) {
          handle = document.createElement('div');
          handle.className = 'lw-handle';
          handle.dataset.handle = corner;
          handle.dataset.testid = `handle-${corner}`;
          frame.append(handle);
        }
        handle.style.left = `${corner[1] === 'w' ? x : x + w}%`;
        handle.style.top = `${corner[0] === 'n' ? y : y + h}%`;
      }
    }
  }

  // -- tools and zoom ------------------------------------------------------------------------------

  function applyTool(obj) {
    const st = stateOf(keyOf(obj));
    if (!obj.querySelector(`[data-tool="${st.tool}"]`)) st.tool = 'select';
    if (obj.querySelector('[data-tool]')) obj.dataset.tool = st.tool; // (CSS: cursors, touch-action)
    obj.querySelectorAll('[data-tool]').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.tool === st.tool)));
  }

  function setTool(obj, tool) {
    const st = stateOf(keyOf(obj));
    if (!obj.querySelector(`button[data-tool="${tool}"]`)) return;
    if (st.tool !== tool && st.points) { st.points = null; paintDraft(obj); }
    st.tool = tool;
    applyTool(obj);
  }

  function applyZoom(obj) {
    const st = stateOf(keyOf(obj)), frame = obj.querySelector('.lw-image-frame');
    const viewport = obj.querySelector('.lw-image-viewport');
    if (!frame || !viewport) return;
    const z = ZOOMS[st.zoom];
    frame.style.transform = z === 1 ? '' : `scale(${z})`; // origin top left (CSS): the viewport scrolls over it
    frame.style.setProperty('--lw-zoom', z);
    obj.dataset.zoomLevel = z;
    viewport.scrollLeft = st.left;
    viewport.scrollTop = st.top;
  }

  // step: +1 in, -1 out, 0 back to fit; the point at the middle of the viewport stays there
  function zoom(obj, step) {
    const st = stateOf(keyOf(obj)), viewport = obj.querySelector('.lw-image-viewport');
    if (!viewport || obj.dataset.zoom === 'false') return;
    const low = obj.dataset.negativeZoom ? 0 : FIT;
    const before = ZOOMS[st.zoom];
    st.zoom = step ? clamp(st.zoom + step, low, ZOOMS.length - 1) : FIT;
    const ratio = ZOOMS[st.zoom] / before;
    st.left = (viewport.scrollLeft + viewport.clientWidth / 2) * ratio - viewport.clientWidth / 2;
    st.top = (viewport.scrollTop + viewport.clientHeight / 2) * ratio - viewport.clientHeight / 2;
    applyZoom(obj);
  }

  // -- making regions ------------------------------------------------------------------------------

  // the label to draw a `kind` with: the pressed one the workspace reports if it fits, else a pressed
  // label in another palette of that kind on this image, else the image's label-less control of that kind
  function labelFor(obj, kind) {
    const name = obj.dataset.name, active = LW().activeLabel(name);
    if (active && kindOf(active.type) === kind) return active;
    for (const fs of document.querySelectorAll('fieldset.lw-labels')) {
      if (kindOf(fs.dataset.type) !== kind || !(fs.dataset.to || '').split(',').map((s) => s.trim()).includes(name)) continue;
      const values = [...fs.querySelectorAll('.lw-label[aria-pressed="true"]')].map((b) => b.dataset.value).filter(Boolean);
      if (values.length) return { control: fs.dataset.control, type: fs.dataset.type, values };
    }
    const tool = obj.querySelector(`button[data-tool="${kind}"]`);
    return tool && tool.dataset.freeControl ? { control: tool.dataset.freeControl, type: tool.dataset.freeType, values: [] } : null;
  }

  function create(obj, kind, value) {
    const label = labelFor(obj, kind), picture = img(obj);
    if (!label) return flash(obj, `Pick a label first, then draw the ${kind === 'keypoint' ? 'key point' : kind}.`);
    if (!picture.naturalWidth) return flash(obj, 'The image has not loaded yet.');
    if (label.values.length || label.type.endsWith('labels')) value[label.type] = label.values;
    const item = { id: LW().newId(), from_name: label.control, to_name: obj.dataset.name, type: label.type,
      origin: 'manual', value, original_width: picture.naturalWidth, original_height: picture.naturalHeight,
      image_rotation: 0 };
    if (obj.dataset.item !== undefined) item.item_index = Number(obj.dataset.item);
    LW().addRegion(item);
    return true;
  }

  function closePolygon(obj) {
    const st = stateOf(keyOf(obj));
    if (!st.points || st.points.length < 3) return flash(obj, 'A polygon needs at least 3 points.');
    const points = st.points.map(([x, y]) => [r4(x), r4(y)]);
    if (!create(obj, 'polygon', { points, closed: true })) return false; // keep the points: pick a label, then Enter
    st.points = null;
    paintDraft(obj);
    return true;
  }

  // a click (no drag) on the image, by tool: a click on a shape of the tool's own kind selects it
  function click(obj, d, p, e) {
    const st = stateOf(keyOf(obj)), shape = d.id && obj.querySelector(`.lw-overlay [data-region="${esc(d.id)}"]`);
    if (st.tool === 'polygon' && (st.points || !(shape && shape.tagName === 'polygon'))) {
      if (!st.points) {
        if (!labelFor(obj, 'polygon')) return flash(obj, 'Pick a label first, then draw the polygon.');
        st.points = [];
      }
      const first = st.points[0], r = img(obj).getBoundingClientRect();
      if (first && st.points.length >= 3 &&
          Math.hypot(r.left + first[0] / 100 * r.width - e.clientX, r.top + first[1] / 100 * r.height - e.clientY) < CLOSE_DIST) {
        closePolygon(obj);
      } else {
        st.points.push([p.x, p.y]);
        paintDraft(obj, null, p);
      }
    } else if (st.tool === 'keypoint' && !(shape && shape.tagName === 'circle')) {
      create(obj, 'keypoint', { x: r4(p.x), y: r4(p.y), width: KEYPOINT_WIDTH });
    } else if (d.mode !== 'move') {
      LW().select(d.id || null);
    }
  }

  // -- pointer -------------------------------------------------------------------------------------

  // the gesture's image, found again if a re-render replaced it mid-gesture
  const live = (d) => (d.obj.isConnected ? d.obj : (d.obj = objectKeyed(d.key) || d.obj));

  document.addEventListener('pointerdown', (e) => {
    const frame = e.button === 0 && LW() && e.target.closest('.lw-image-edit .lw-image-frame');
    if (!frame) return;
    const obj = frame.closest('.lw-image'), st = stateOf(keyOf(obj));
    if (MASK_TOOLS.has(st.tool)) return; // painting: static/brush-tools.js
    const shape = e.target.closest('[data-region]'), handle = e.target.closest('.lw-handle');
    const selected = LW().selected();
    current = keyOf(obj);
    drag = { obj, key: keyOf(obj), start: pct(obj, e), x0: e.clientX, y0: e.clientY, active: false,
             id: shape ? shape.dataset.region : null };
    if (st.points) drag.mode = 'click'; // an unfinished polygon takes every click
    else if (handle && selected) Object.assign(drag, { mode: 'resize', corner: handle.dataset.handle, id: selected });
    else if (drag.id && (drag.id === selected || st.tool === 'select')) {
      drag.mode = 'move';
      if (drag.id !== selected) LW().select(drag.id);
    } else if (st.tool === 'select') {
      const viewport = obj.querySelector('.lw-image-viewport');
      Object.assign(drag, { mode: 'pan', scroll: [viewport.scrollLeft, viewport.scrollTop] });
    } else drag.mode = st.tool === 'rectangle' ? 'draw' : 'click';
    if (drag.mode === 'move' || drag.mode === 'resize') {
      drag.item = itemOf(drag.id);
      if (!drag.item) drag.mode = 'click';
    }
    frame.setPointerCapture(e.pointerId); // keep getting the moves outside the image
  });

  document.addEventListener('pointermove', (e) => {
    if (!drag) { // rubber band from an unfinished polygon's last point
      const frame = e.target.closest && e.target.closest('.lw-image-edit .lw-image-frame');
      const obj = frame && frame.closest('.lw-image');
      if (obj && stateOf(keyOf(obj)).points) paintDraft(obj, null, pct(obj, e));
      return;
    }
    if (!drag.active && Math.hypot(e.clientX - drag.x0, e.clientY - drag.y0) < MIN_DRAG) return;
    drag.active = true;
    const obj = live(drag), p = pct(obj, e), d = drag;
    if (d.mode === 'draw') paintDraft(obj, box(d.start, p));
    else if (d.mode === 'pan') {
      const viewport = obj.querySelector('.lw-image-viewport');
      viewport.scrollLeft = d.scroll[0] - (e.clientX - d.x0);
      viewport.scrollTop = d.scroll[1] - (e.clientY - d.y0);
    } else if (d.mode === 'move' || d.mode === 'resize') {
      d.value = d.mode === 'move' ? moved(d.item, p.x - d.start.x, p.y - d.start.y) : resized(d.item.value, d.corner, p);
      paintShape(obj, d.id, kindOf(d.item.type), { ...d.item.value, ...d.value });
      refreshHandles();
    }
  });

  document.addEventListener('pointerup', (e) => {
    if (!drag) return;
    const d = drag, obj = live(d), p = pct(obj, e);
    drag = null;
    if (d.mode === 'draw' && d.active) {
      paintDraft(obj);
      const b = box(d.start, p);
      if (b.width > 0 && b.height > 0) create(obj, 'rectangle', { ...b, rotation: 0 });
    } else if ((d.mode === 'move' || d.mode === 'resize') && d.value) {
      if (d.mode === 'move' || (d.value.width > 0 && d.value.height > 0)) {
        LW().updateRegion(d.id, d.value);
      } else cancel(obj, d);
    } else if (!d.active && d.mode === 'pan') LW().select(null); // a click on the image with the select tool
    else if (!d.active && d.mode !== 'resize') click(obj, d, p, e);
  });

  // a gesture dropped (Escape, or the browser took the pointer): put the shape back
  function cancel(obj, d) {
    if (d.item) paintShape(obj, d.id, kindOf(d.item.type), d.item.value);
    paintDraft(obj);
    refreshHandles();
  }
  document.addEventListener('pointercancel', () => { if (drag) { cancel(live(drag), drag); drag = null; } });

  // -- keys, buttons, labels -----------------------------------------------------------------------

  const typing = (t) => t.isContentEditable || /^(TEXTAREA|SELECT)$/.test(t.tagName) ||
    (t.tagName === 'INPUT' && !/^(button|checkbox|radio|submit|reset|range|color|file|image)$/.test(t.type));

  // a key the workspace's keymap (data-keymap, which users may remap) or a label already uses
  function taken(e) {
    const keymap = document.querySelector('.lw-workspace[data-keymap]');
    const combo = (e.ctrlKey || e.metaKey ? 'ctrl+' : '') + e.key.toLowerCase();
    return (keymap && Object.values(JSON.parse(keymap.dataset.keymap)).includes(combo)) ||
      (!e.ctrlKey && !e.metaKey && document.querySelector(`[data-hotkey="${esc(e.key)}" i]`));
  }

  // capture phase on window: runs before workspace.js's handlers, so that while a polygon is being
  // drawn Enter, Escape and Backspace act on it, not on the form or the selected region
  window.addEventListener('keydown', (e) => {
    if (typing(e.target)) return;
    const obj = objectKeyed(current) || objects()[0];
    if (!obj) return;
    const st = stateOf(keyOf(obj)), consume = () => { e.preventDefault(); e.stopImmediatePropagation(); };
    const plain = !e.ctrlKey && !e.metaKey && !e.altKey && !e.shiftKey;
    if (e.key === 'Escape' && drag) { consume(); cancel(live(drag), drag); drag = null; return; }
    if (st.points && plain && ['Enter', 'Escape', 'Backspace'].includes(e.key)) {
      consume();
      if (e.key === 'Enter') closePolygon(obj);
      else {
        if (e.key === 'Escape' || st.points.length < 2) st.points = null; else st.points.pop();
        paintDraft(obj);
      }
      return;
    }
    if ((e.ctrlKey || e.metaKey) && !e.altKey && ['+', '=', '-', '0'].includes(e.key) &&
        obj.querySelector('[data-zoom-action]') && !taken(e)) {
      consume(); // not the browser's page zoom
      zoom(obj, { '+': 1, '=': 1, '-': -1, 0: 0 }[e.key]);
      return;
    }
    const tool = KEYS[e.key];
    if (tool && plain && obj.querySelector(`button[data-tool="${tool}"]`) && !taken(e)) {
      consume();
      setTool(obj, tool);
    }
  }, true);

  document.addEventListener('click', (e) => {
    const button = e.target.closest('.lw-image-tools button');
    if (!button) return;
    const obj = button.closest('.lw-image');
    current = keyOf(obj);
    if (button.dataset.tool) setTool(obj, button.dataset.tool);
    else zoom(obj, { in: 1, out: -1, reset: 0 }[button.dataset.zoomAction]);
  });

  // pressing a label (workspace.js announces it with lw:label) makes its tool current on the images it labels
  document.addEventListener('lw:label', (e) => {
    const fs = document.querySelector(`.lw-labels[data-control="${esc(e.detail.control)}"]`);
    if (!fs || !fs.querySelector('.lw-label[aria-pressed="true"]')) return; // released, not pressed
    for (const name of (fs.dataset.to || '').split(',')) {
      for (const obj of objects().filter((o) => o.dataset.name === name.trim())) setTool(obj, kindOf(fs.dataset.type));
    }
  });

  // selection changes (here, in the region list, by keys) move the handles
  new MutationObserver((records) => {
    if (records.some((m) => m.target.matches && m.target.matches('.lw-overlay [data-region]'))) refreshHandles();
  }).observe(document.documentElement, { subtree: true, attributes: true, attributeFilter: ['class'] });

  // scroll positions survive a re-render: remember them, and set them again once the image has a size
  document.addEventListener('scroll', (e) => {
    const viewport = e.target.classList && e.target.classList.contains('lw-image-viewport') && e.target;
    const obj = viewport && viewport.closest('.lw-image-edit');
    if (obj) Object.assign(stateOf(keyOf(obj)), { left: viewport.scrollLeft, top: viewport.scrollTop });
  }, true);
  document.addEventListener('load', (e) => {
    const obj = e.target.tagName === 'IMG' && e.target.closest('.lw-image-edit');
    if (obj) applyZoom(obj);
  }, true);

  // a PDF page shown as an image (`<Image valueList>` over a PDF upload) answers 404 until the worker
  // has rendered it (the request asks for it): try again every second, for a minute
  function retryPage(pic) {
    const src = pic.getAttribute('src');
    if (!src || !/^\/data\/upload\/.+\/pages\/\d+(\?|$)/.test(src) || Number(pic.dataset.tries || 0) >= 60) return;
    pic.dataset.tries = Number(pic.dataset.tries || 0) + 1;
    setTimeout(() => { if (pic.isConnected) pic.src = `${src.replace(/\?.*$/, '')}?retry=${pic.dataset.tries}`; }, 1000);
  }
  document.addEventListener('error', (e) => {
    if (e.target.tagName === 'IMG' && e.target.closest('.lw-image-frame')) retryPage(e.target);
  }, true);
  // a page that failed before this script was listening is retried too
  function retryBroken() {
    for (const pic of document.querySelectorAll('.lw-image-frame img')) {
      if (pic.complete && pic.naturalWidth === 0 && !pic.dataset.tries) retryPage(pic);
    }
  }

  function restore() {
    for (const obj of objects()) {
      applyTool(obj);
      applyZoom(obj);
      paintDraft(obj);
    }
    refreshHandles();
    retryBroken();
  }
  document.addEventListener('lw:rendered', restore);
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', restore);
  else restore();
})();
