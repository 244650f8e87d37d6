/* Labelwell PDF tools: page through a <Pdf> one page at a time (PageUp/PageDown, the buttons, "Go to
   page"), loading only the page shown and the next one, and draw <OcrLabels> boxes whose text comes from
   the page's text layer (the worker's words, fetched once per page). The server re-renders the form after
   each change, so the page shown is kept here per document (by data-name) and put back after each render.
   Boxes are fractions 0-1 of the page, measured from the page picture's on-screen box. */
(() => {
  'use strict';
  const MIN_DRAG = 3;  // screen px: a shorter press is a click
  const RETRY = 1000;  // ms between tries for a page not rendered yet
  const ZOOMS = [0.5, 0.75, 1, 1.25, 1.5, 2, 3];  // of the fitted width
  const pageOf = new Map();  // document name -> page shown (1-based)
  const zoomOf = new Map();  // document name -> index in ZOOMS
  const words = new Map();   // page text address -> Promise of its words
  let drag = null, current = null;
  const LW = () => window.Labelwell;
  const r5 = (v) => Math.round(v * 1e5) / 1e5;
  const clamp = (v) => Math.min(1, Math.max(0, v));
  const docs = () => [...document.querySelectorAll('.lw-pdf[data-src]')];
  const pages = (obj) => parseInt(obj.dataset.pages, 10) || 0;

  function show(obj, page) {
    const count = pages(obj), name = obj.dataset.name;
    page = Math.min(Math.max(1, page || 1), Math.max(1, count));
    pageOf.set(name, page);
    current = name;
    const img = obj.querySelector('.lw-pdf-page'), src = `${obj.dataset.src}/pages/${page}`;
    if (img.dataset.page !== String(page) || !img.getAttribute('src')) {
      img.dataset.page = String(page);
      img.src = src;
    }
    img.alt = `${name}: page ${page} of ${count || 'the document'}`;
    if (img.complete) settle(img);  // loaded (or failed) before this script was listening
    const sizes = JSON.parse(obj.dataset.sizes || '[]'), size = sizes[page - 1] || sizes[0];
    if (size) obj.querySelector('.lw-pdf-frame').style.aspectRatio = `${size[0]} / ${size[1]}`;
    const status = obj.querySelector('.lw-pdf-status');
    if (status) status.textContent = `Page ${page} of ${count || '…'}`;
    for (const el of obj.querySelectorAll('.lw-overlay [data-page]')) el.toggleAttribute('hidden', el.dataset.page !== String(page));
    for (const el of document.querySelectorAll(`.lw-pdf-item[data-pdf="${CSS.escape(name)}"]`)) el.hidden = el.dataset.page !== String(page);
    const prev = obj.querySelector('[data-pdf=prev]'), next = obj.querySelector('[data-pdf=next]');
    if (prev) prev.disabled = page <= 1;
    if (next) next.disabled = page >= count;
    if (page < count) new Image().src = `${obj.dataset.src}/pages/${page + 1}`;  // the next one, ahead
  }

  function settle(img) {
    if (img.naturalWidth) loaded(img);
    else if (img.getAttribute('src')) retry(img);
  }

  function note(obj, text) { const el = obj.querySelector('.lw-pdf-note'); if (el) el.textContent = text; }

  // a page not rendered yet answers 404: say so and try again
  function retry(img) {
    const obj = img.closest('.lw-pdf'), page = img.dataset.page;
    if (img.dataset.retrying === page) return;
    img.dataset.retrying = page;
    note(obj, `Page ${page} is being rendered; it appears here when ready.`);
    setTimeout(() => {
      delete img.dataset.retrying;
      if (img.isConnected && img.dataset.page === page) img.src = `${obj.dataset.src}/pages/${page}?retry=${Date.now()}`;
    }, RETRY);
  }
  function loaded(img) {
    const obj = img.closest('.lw-pdf');
    if (obj.dataset.state !== 'failed') note(obj, '');
    img.dataset.loaded = img.dataset.page;
  }
  const isPage = (t) => t instanceof HTMLImageElement && t.matches('.lw-pdf-page');
  document.addEventListener('error', (e) => { if (isPage(e.target)) retry(e.target); }, true);
  document.addEventListener('load', (e) => { if (isPage(e.target)) loaded(e.target); }, true);

  // the page's width: the column's at Fit, a multiple of it zoomed (the viewport scrolls)
  function zoom(obj, step) {
    const name = obj.dataset.name, at = zoomOf.has(name) ? zoomOf.get(name) : ZOOMS.indexOf(1);
    const next = step === 0 ? ZOOMS.indexOf(1) : Math.min(ZOOMS.length - 1, Math.max(0, at + step));
    zoomOf.set(name, next);
    current = name;
    note(obj, `Zoom ${Math.round(applyZoom(obj) * 100)} %`);
  }
  function applyZoom(obj) {
    const frame = obj.querySelector('.lw-pdf-frame'), viewport = obj.querySelector('.lw-pdf-viewport');
    const z = ZOOMS[zoomOf.has(obj.dataset.name) ? zoomOf.get(obj.dataset.name) : ZOOMS.indexOf(1)];
    if (!frame || !viewport) return z;
    frame.toggleAttribute('data-zoom', z !== 1);
    frame.style.width = z === 1 ? '' : `${Math.round(Math.min(900, viewport.clientWidth || 900) * z)}px`;
    return z;
  }

  function restore() {
    for (const obj of docs()) {
      applyZoom(obj);
      show(obj, pageOf.get(obj.dataset.name) || 1);
      // the page count is not known yet (the worker is reading the file): ask again shortly
      if (!pages(obj) && obj.dataset.state !== 'failed' && !obj.dataset.waiting) {
        obj.dataset.waiting = 'true';
        setTimeout(() => location.reload(), 2 * RETRY);
      }
    }
  }

  const typing = (t) => t.isContentEditable || /^(TEXTAREA|SELECT|INPUT)$/.test(t.tagName) && !/^(button|checkbox|radio)$/.test(t.type);
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && e.target.matches('.lw-pdf [data-pdf=goto]')) {  // go there, do not submit the task
      e.preventDefault();
      show(e.target.closest('.lw-pdf'), parseInt(e.target.value, 10));
      return;
    }
    if ((e.ctrlKey || e.metaKey) && !e.altKey && ['+', '=', '-', '0'].includes(e.key) && !typing(e.target)) {
      const obj = docs().find((o) => o.dataset.name === current) || docs()[0];
      if (!obj || !obj.querySelector('[data-pdf-zoom]')) return;
      e.preventDefault();  // not the browser's page zoom
      zoom(obj, { '+': 1, '=': 1, '-': -1, 0: 0 }[e.key]);
      return;
    }
    if ((e.key !== 'PageDown' && e.key !== 'PageUp') || e.altKey || e.ctrlKey || e.metaKey || typing(e.target)) return;
    const obj = docs().find((o) => o.dataset.name === current) || docs()[0];
    if (!obj) return;
    e.preventDefault();
    show(obj, (pageOf.get(obj.dataset.name) || 1) + (e.key === 'PageDown' ? 1 : -1));
  });
  document.addEventListener('click', (e) => {
    const zoomButton = e.target.closest('.lw-pdf [data-pdf-zoom]');
    if (zoomButton) { zoom(zoomButton.closest('.lw-pdf'), { in: 1, out: -1, fit: 0 }[zoomButton.dataset.pdfZoom]); return; }
    const button = e.target.closest('.lw-pdf [data-pdf=prev], .lw-pdf [data-pdf=next]');
    if (!button) return;
    const obj = button.closest('.lw-pdf');
    show(obj, (pageOf.get(obj.dataset.name) || 1) + (button.dataset.pdf === 'next' ? 1 : -1));
  });
  document.addEventListener('change', (e) => {
    if (e.target.matches('.lw-pdf [data-pdf=goto]')) show(e.target.closest('.lw-pdf'), parseInt(e.target.value, 10));
    else if (e.target.matches('input[data-ocrtext]') && LW()) LW().updateRegion(e.target.dataset.ocrtext, { ocrtext: e.target.value });
  });

  // -- boxes ---------------------------------------------------------------------------------------

  function textOf(obj, page) {
    const url = `${obj.dataset.src}/pages/${page}/text`;
    if (!words.has(url)) words.set(url, fetch(url, { credentials: 'same-origin' }).then((r) => (r.ok ? r.json() : { words: [] }))
      .then((d) => d.words || []).catch(() => []));
    return words.get(url);
  }

  // the words whose middle lies in the box, in reading order (lines top to bottom, words left to right)
  function under(list, b) {
    const inside = list.filter((w) => {
      const cx = w.x + w.width / 2, cy = w.y + w.height / 2;
      return cx >= b.x && cx <= b.x + b.width && cy >= b.y && cy <= b.y + b.height;
    });
    inside.sort((a, c) => (Math.abs(a.y - c.y) < Math.min(a.height, c.height) / 2 ? a.x - c.x : a.y - c.y));
    return inside.map((w) => w.text).join(' ');
  }

  function at(obj, e) {
    const r = obj.querySelector('.lw-pdf-page').getBoundingClientRect();
    return { x: clamp((e.clientX - r.left) / r.width), y: clamp((e.clientY - r.top) / r.height) };
  }

  document.addEventListener('pointerdown', (e) => {
    const frame = e.button === 0 && LW() && e.target.closest('.lw-pdf[data-drawing] .lw-pdf-frame');
    if (!frame) return;
    const obj = frame.closest('.lw-pdf'), shape = e.target.closest('[data-region]');
    current = obj.dataset.name;
    const label = LW().activeLabel(obj.dataset.name);
    if (shape && !(label && label.values.length)) { LW().select(shape.dataset.region); return; }
    drag = { obj, start: at(obj, e), x0: e.clientX, y0: e.clientY, label };
    frame.setPointerCapture(e.pointerId);
    e.preventDefault();
  });
  document.addEventListener('pointermove', (e) => {
    if (!drag || Math.hypot(e.clientX - drag.x0, e.clientY - drag.y0) < MIN_DRAG) return;
    drag.active = true;
    const p = at(drag.obj, e), svg = drag.obj.querySelector('.lw-overlay');
    let draft = svg.querySelector('.lw-draft');
    if (!draft) { draft = document.createElementNS('http://www.w3.org/2000/svg', 'rect'); draft.setAttribute('class', 'lw-draft'); draft.setAttribute('vector-effect', 'non-scaling-stroke'); svg.appendChild(draft); }
    draft.setAttribute('x', Math.min(p.x, drag.start.x)); draft.setAttribute('y', Math.min(p.y, drag.start.y));
    draft.setAttribute('width', Math.abs(p.x - drag.start.x)); draft.setAttribute('height', Math.abs(p.y - drag.start.y));
  });
  document.addEventListener('pointerup', async (e) => {
    if (!drag) return;
    const d = drag, p = at(d.obj, e);
    drag = null;
    const draft = d.obj.querySelector('.lw-overlay .lw-draft');
    if (!d.active) { if (draft) draft.remove(); LW().select(null); return; }
    const label = d.label;
    if (!label || label.type !== 'ocrlabels') {
      if (draft) draft.remove();
      return note(d.obj, 'Pick a label first, then draw the box.');
    }
    const b = { x: r5(Math.min(p.x, d.start.x)), y: r5(Math.min(p.y, d.start.y)),
                width: r5(Math.abs(p.x - d.start.x)), height: r5(Math.abs(p.y - d.start.y)) };
    if (!b.width || !b.height) { if (draft) draft.remove(); return; }
    const page = pageOf.get(d.obj.dataset.name) || 1;
    const ocrtext = under(await textOf(d.obj, page), b);
    LW().addRegion({ from_name: label.control, to_name: d.obj.dataset.name, type: 'ocrlabels', origin: 'manual',
                     value: { ...b, rotation: 0, pageIndex: page, ocrtext, ocrlabels: label.values } });
  });

  document.addEventListener('htmx:afterSettle', restore);
  restore();
})();
