// <TimeSeries> in the workspace: draws the window the server reduced (GET /api/tasks/{id}/timeseries/{name})
// on a canvas, an overview strip of the whole series, and the <TimeSeriesLabels> ranges as buttons over
// the chart. Zooming or panning asks the server for that window again; nothing else is held here.
(function () {
  "use strict";
  const root = document.querySelector(".lw-workspace");
  if (!root) return;
  const state = {};  // series name -> {start, end, first, last, view, overview, asked}
  const BAND = 120;  // px of chart per channel
  let drag = null;

  function lw() { return window.Labelwell; }
  function objects() { return Array.from(document.querySelectorAll(".lw-ts")); }
  function url(obj, start, end, width) {
    const q = new URLSearchParams({ width: String(Math.max(10, Math.round(width))) });
    if (start !== undefined) { q.set("start", String(start)); q.set("end", String(end)); }
    return `/api/tasks/${root.dataset.task}/timeseries/${encodeURIComponent(obj.dataset.name)}?${q}`;
  }
  function widthOf(el) { return Math.max(10, el.clientWidth || 600); }

  async function ask(address) {
    const response = await fetch(address, { credentials: "same-origin", headers: { Accept: "application/json" } });
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    if (!response.ok) throw new Error((body && body.detail) || `The server answered ${response.status}`);
    return body;
  }

  function fail(obj, error) {
    obj = current(obj);
    state[obj.dataset.name].error = error;
    const box = obj.querySelector(".lw-ts-error");
    if (box) { box.textContent = error.message; box.hidden = false; }
    status(obj, "The series could not be drawn.");
  }
  function status(obj, text) { const el = obj.querySelector(".lw-ts-status"); if (el) el.textContent = text; }

  async function open(obj) {
    const s = state[obj.dataset.name] = state[obj.dataset.name] || {};
    try {
      s.overview = await ask(url(obj, undefined, undefined, widthOf(obj.querySelector(".lw-ts-overview"))));
      s.first = s.overview.first; s.last = s.overview.last;
      const span = (s.last - s.first) * parseFloat(obj.dataset.window || "0.25");
      s.start = s.first; s.end = s.first + Math.max(span, Math.min(s.last - s.first, 10 * (s.last - s.first) / Math.max(1, s.overview.points - 1)));
      await load(obj);
    } catch (error) { fail(obj, error); }
  }

  async function load(obj) {
    const s = state[obj.dataset.name];
    const address = url(obj, s.start, s.end, widthOf(obj.querySelector(".lw-ts-chart")));
    s.asked = address;
    const got = await ask(address);
    if (s.asked !== address) return;  // a later window was asked for meanwhile
    s.view = got;
    s.error = null;
    draw(obj);
    current(obj).dataset.drawnAt = String(performance.now());
  }

  function channels(obj) {
    return Array.from(obj.querySelectorAll(".lw-ts-legend li"), (li) => ({ column: li.dataset.column, color: li.dataset.color }));
  }

  function plot(canvas, data, start, end, bands, cols) {
    const w = canvas.clientWidth || 600, h = canvas.clientHeight || bands * BAND;
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(w * ratio); canvas.height = Math.round(h * ratio);
    const g = canvas.getContext("2d");
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, w, h);
    const band = h / bands;
    const px = (x) => ((x - start) / (end - start || 1)) * w;
    cols.forEach((c, i) => {
      const ch = data.channels[c.column];
      if (!ch) return;
      let low = Infinity, high = -Infinity;
      for (let k = 0; k < ch.min.length; k++) { if (ch.min[k] < low) low = ch.min[k]; if (ch.max[k] > high) high = ch.max[k]; }
      if (!(high > low)) { high = low + 1; low -= 1; }
      const top = i * band + 4, span = band - 8;
      const py = (y) => top + span - ((y - low) / (high - low)) * span;
      g.strokeStyle = c.color; g.lineWidth = 1;
      g.beginPath();
      for (let k = 0; k < data.x.length; k++) {
        const x = px(data.x[k]);
        if (k === 0) g.moveTo(x, py(ch.min[k])); else g.lineTo(x, py(ch.min[k]));
        if (ch.max[k] !== ch.min[k]) g.lineTo(x, py(ch.max[k]));
      }
      g.stroke();
    });
  }

  // the element now on the page: the form is rendered again after every change
  function current(obj) { return document.querySelector(`.lw-ts[data-name="${CSS.escape(obj.dataset.name)}"]`) || obj; }

  function draw(obj) {
    obj = current(obj);
    const s = state[obj.dataset.name];
    if (!s || !s.view) return;
    const cols = channels(obj);
    obj.dataset.start = String(s.start); obj.dataset.end = String(s.end);  // the window, for people's scripts and tests
    const chart = obj.querySelector(".lw-ts-chart"), over = obj.querySelector(".lw-ts-overview");
    chart.style.height = `${BAND * cols.length}px`;
    plot(chart.querySelector("canvas"), s.view, s.start, s.end, cols.length, cols);
    if (s.overview) plot(over.querySelector("canvas"), s.overview, s.first, s.last, cols.length, cols);
    const win = over.querySelector(".lw-ts-window"), whole = (s.last - s.first) || 1;
    win.style.left = `${(100 * (s.start - s.first)) / whole}%`;
    win.style.width = `${Math.max(0.5, (100 * (s.end - s.start)) / whole)}%`;
    for (const el of chart.querySelectorAll(".lw-ts-region")) {
      const x0 = parseFloat(el.dataset.x0), x1 = parseFloat(el.dataset.x1);
      const shown = x1 >= s.start && x0 <= s.end;
      el.hidden = !shown;
      el.style.left = `${(100 * (x0 - s.start)) / (s.end - s.start)}%`;
      el.style.width = `${(100 * (x1 - x0)) / (s.end - s.start)}%`;
    }
    const error = obj.querySelector(".lw-ts-error");
    if (error) error.hidden = true;
    const range = obj.querySelector(".lw-ts-range");
    if (range) range.textContent = `${shownX(obj, s.start)} – ${shownX(obj, s.end)}`;
    status(obj, `${s.view.count.toLocaleString()} of ${s.view.points.toLocaleString()} points in view${s.view.reduced ? " (min and max per pixel)" : ""}`);
  }

  // the x axis as the config's timeDisplayFormat says: strftime (UTC) for dates, a d3-format
  // such as ".2f", ",d" or ".1%" for numbers; without one (or "date"), ISO dates and plain numbers
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  function strftime(format, d) {
    const parts = { Y: d.getUTCFullYear(), y: pad(d.getUTCFullYear() % 100), m: pad(d.getUTCMonth() + 1), d: pad(d.getUTCDate()),
      e: String(d.getUTCDate()), H: pad(d.getUTCHours()), I: pad(d.getUTCHours() % 12 || 12), M: pad(d.getUTCMinutes()),
      S: pad(d.getUTCSeconds()), L: pad(d.getUTCMilliseconds(), 3), f: pad(d.getUTCMilliseconds() * 1000, 6),
      p: d.getUTCHours() < 12 ? "AM" : "PM", b: MONTHS[d.getUTCMonth()], a: DAYS[d.getUTCDay()], "%": "%" };
    return format.replace(/%([A-Za-z%])/g, (all, c) => (c in parts ? String(parts[c]) : all));
  }
  function numberFormat(format, x) {
    const m = /^(,)?(?:\.(\d+))?([dfe%])?$/.exec(format);
    if (!m) return String(x);
    const [, group, digits, type] = m;
    const places = digits === undefined ? (type === "d" ? 0 : null) : parseInt(digits, 10);
    if (type === "e") return x.toExponential(places === null ? undefined : places);
    const value = type === "%" ? x * 100 : x;
    const text = value.toLocaleString("en-US", { useGrouping: !!group, minimumFractionDigits: places ?? 0,
                                                 maximumFractionDigits: places ?? 20 });
    return type === "%" ? text + "%" : text;
  }
  function shownX(obj, x) {
    const display = obj.dataset.displayFormat && obj.dataset.displayFormat !== "date" ? obj.dataset.displayFormat : "";
    if (!obj.dataset.timeFormat) return display ? numberFormat(display, x) : Number.isInteger(x) ? String(x) : x.toFixed(2);
    const d = new Date(x);
    return display ? strftime(display, d) : d.toISOString().replace("T", " ").replace("Z", "");
  }

  function setWindow(obj, start, end) {
    const s = state[obj.dataset.name];
    if (!s || s.first === undefined) return;
    const whole = s.last - s.first, least = whole / Math.max(1, s.overview.points - 1) * 4;
    let span = Math.min(whole, Math.max(least, end - start));
    start = Math.min(Math.max(s.first, start), s.last - span);
    s.start = start; s.end = start + span;
    draw(obj);
    load(obj).catch((error) => fail(obj, error));
  }
  function zoom(obj, factor, at) {
    const s = state[obj.dataset.name];
    if (!s) return;
    const center = at === undefined ? (s.start + s.end) / 2 : at;
    setWindow(obj, center - (center - s.start) * factor, center + (s.end - center) * factor);
  }
  function pan(obj, part) {
    const s = state[obj.dataset.name];
    if (s) setWindow(obj, s.start + (s.end - s.start) * part, s.end + (s.end - s.start) * part);
  }

  // the x under a pointer, snapped to the nearest point drawn (a sample when the window is not reduced)
  function xAt(obj, clientX, snap) {
    const s = state[obj.dataset.name], box = obj.querySelector(".lw-ts-chart").getBoundingClientRect();
    const x = s.start + ((clientX - box.left) / box.width) * (s.end - s.start);
    if (!snap || !s.view || !s.view.x.length) return x;
    let best = s.view.x[0];
    for (const v of s.view.x) if (Math.abs(v - x) < Math.abs(best - x)) best = v;
    return best;
  }

  function addRange(obj, x0, x1) {
    const label = lw() && lw().activeLabel(obj.dataset.name);
    if (!label || !label.values.length) { status(obj, "Press a label first, then drag on the chart."); return; }
    const start = Math.min(x0, x1), end = Math.max(x0, x1);
    lw().addRegion({ from_name: label.control, to_name: obj.dataset.name, type: label.type,
                     value: { start, end, instant: start === end, [label.type]: label.values } });
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest(".lw-ts [data-ts]");
    if (button) {
      const obj = button.closest(".lw-ts"), s = state[obj.dataset.name], what = button.dataset.ts;
      if (what === "zoom-in") zoom(obj, 0.5);
      else if (what === "zoom-out") zoom(obj, 2);
      else if (what === "left") pan(obj, -0.25);
      else if (what === "right") pan(obj, 0.25);
      else if (what === "all" && s) setWindow(obj, s.first, s.last);
      else if (what === "instant" && s) { const mid = (s.start + s.end) / 2; addRange(obj, mid, mid); }
      return;
    }
    const region = event.target.closest(".lw-ts-region");
    if (region && lw()) lw().select(lw().selected() === region.dataset.region ? null : region.dataset.region);
  });

  document.addEventListener("pointerdown", (event) => {
    const chart = event.target.closest(".lw-ts-chart"), over = event.target.closest(".lw-ts-overview");
    if (over) { drag = { over, obj: over.closest(".lw-ts") }; moveOverview(event); return; }
    if (!chart || event.target.closest(".lw-ts-region") || event.button !== 0) return;
    const obj = chart.closest(".lw-ts");
    if (!state[obj.dataset.name] || !state[obj.dataset.name].view) return;
    if (!lw().activeLabel(obj.dataset.name)) return;
    event.preventDefault();
    const ghost = document.createElement("span");
    ghost.className = "lw-ts-ghost";
    chart.appendChild(ghost);
    drag = { obj, chart, ghost, from: event.clientX };
  });
  function moveOverview(event) {
    const s = state[drag.obj.dataset.name], box = drag.over.getBoundingClientRect();
    if (!s || s.first === undefined) return;
    const center = s.first + ((event.clientX - box.left) / box.width) * (s.last - s.first), half = (s.end - s.start) / 2;
    setWindow(drag.obj, center - half, center + half);
  }
  document.addEventListener("pointermove", (event) => {
    if (!drag) return;
    if (drag.over) { moveOverview(event); return; }
    const box = drag.chart.getBoundingClientRect();
    const a = Math.min(drag.from, event.clientX) - box.left, b = Math.max(drag.from, event.clientX) - box.left;
    drag.ghost.style.left = `${a}px`; drag.ghost.style.width = `${b - a}px`;
  });
  document.addEventListener("pointerup", (event) => {
    const d = drag;
    drag = null;
    if (!d || d.over) return;
    d.ghost.remove();
    if (Math.abs(event.clientX - d.from) < 4) return;  // a click, not a drag
    addRange(d.obj, xAt(d.obj, d.from, true), xAt(d.obj, event.clientX, true));
  });
  document.addEventListener("dblclick", (event) => {
    const chart = event.target.closest(".lw-ts-chart");
    if (!chart || event.target.closest(".lw-ts-region")) return;
    const obj = chart.closest(".lw-ts"), x = xAt(obj, event.clientX, true);
    addRange(obj, x, x);
  });
  document.addEventListener("wheel", (event) => {
    const chart = event.target.closest(".lw-ts-chart");
    if (!chart) return;
    event.preventDefault();
    const obj = chart.closest(".lw-ts");
    zoom(obj, event.deltaY > 0 ? 1.25 : 0.8, xAt(obj, event.clientX, false));
  }, { passive: false });

  // keys on a selected range: arrows grow it, Alt+arrows shrink it, Shift ×10 (a step: 1 % of the window)
  function nudge(obj, el, event) {
    const s = state[obj.dataset.name];
    let x0 = parseFloat(el.dataset.x0), x1 = parseFloat(el.dataset.x1);
    const step = ((s.end - s.start) / 100) * (event.shiftKey ? 10 : 1), sign = event.altKey ? -1 : 1;
    if (event.key === "ArrowLeft") x0 -= sign * step; else x1 += sign * step;
    if (x0 > x1) { if (event.key === "ArrowLeft") x0 = x1; else x1 = x0; }
    x0 = Math.max(s.first, x0); x1 = Math.min(s.last, x1);
    lw().updateRegion(el.dataset.region, { start: x0, end: x1, instant: x0 === x1 });
  }
  window.addEventListener("keydown", (event) => {
    if (event.isComposing || !lw() || lw().editing(event.target) || event.ctrlKey || event.metaKey) return;
    const help = document.getElementById("lw-help");
    if (help && help.open) return;
    const selected = lw().selected();
    const el = selected && document.querySelector(`.lw-ts-region[data-region="${CSS.escape(selected)}"]`);
    const obj = el ? el.closest(".lw-ts") : (event.target.closest && event.target.closest(".lw-ts")) || objects()[0];
    if (!obj || !state[obj.dataset.name]) return;
    if (el && (event.key === "ArrowLeft" || event.key === "ArrowRight")) {
      event.preventDefault(); event.stopImmediatePropagation();
      nudge(obj, el, event);
      return;
    }
    if (event.altKey) return;
    const free = (key) => !lw().keyTaken(key) && !document.querySelector(`[data-hotkey="${CSS.escape(key)}"]`);
    const instant = obj.querySelector('[data-ts="instant"]');
    if ((event.key === "+" || event.key === "=" || event.key === "-") && free(event.key)) {
      event.preventDefault();
      zoom(obj, event.key === "-" ? 2 : 0.5);
    } else if (event.key === "i" && instant && free("i")) {
      event.preventDefault();
      instant.click();  // an instant at the window's middle: the keyboard's way to start a range
    } else if (!el && (event.key === "ArrowLeft" || event.key === "ArrowRight") && event.target.closest && event.target.closest(".lw-ts")) {
      event.preventDefault();
      pan(obj, event.key === "ArrowLeft" ? -0.25 : 0.25);
    }
  });

  function start() {
    for (const obj of objects()) {
      const s = state[obj.dataset.name];
      if (!s) open(obj);
      else if (s.error) fail(obj, s.error);
      else if (s.view) draw(obj);
    }
  }
  document.addEventListener("lw:rendered", start);
  window.addEventListener("resize", () => objects().forEach((obj) => state[obj.dataset.name] && state[obj.dataset.name].view && load(obj).catch((e) => fail(obj, e))));
  start();
})();
