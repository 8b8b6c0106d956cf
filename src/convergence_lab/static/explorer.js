/* convergence_lab's explorer renderer: draws a recorded Explorer on a canvas.
   The same file for every chapter, and drawing is the same in all three places:
   inlined into each explorer's HTML output by convergence_lab.recording.recorder (the
   website, and the recorded explorer in a notebook's output), and the live figure in
   Jupyter: convergence_lab.live_view wraps this file in an ES module for anywidget,
   whose render() calls decode and drawFrame on each frame the kernel sends (a
   one-frame recording's raw bytes, FrameEncoder's rows for the slider's setting).
   The byte format it decodes (header, int32 tables, int16 pool, frame rows) is
   specified in convergence_lab/recording/format.py. No network: the data is in the
   page, inflated by the browser's DecompressionStream.

   The parts, each usable alone:
     decode(buf)                 inflated blob -> {meta, frames, combos, arr}
     arrays(pool, offsets)       arr(k): the k-th delta-coded array, decoded once
     readState(id, controls, qs) the query string -> one value index per control
     buildControls(id, controls, state, onMove) -> {panel, link, outputs}
     drawFrame(ctx, bg, rows, t) one frame's rows [style, a, b, c] over the background;
                                 t = {w, h, q, styles, texts, arr}. A frame may come from
                                 a recording or from a live kernel. Returns its texts.
     stacking / drawStacked      on a narrow page, the panels one above another
     settingUrl / syncUrl        the setting in the query string
     makeStats(root)             root.clStats and the cl-drawn / cl-ready events */
var clExplorer = window.clExplorer || (window.clExplorer = (function () {
  "use strict";
  var FONT = "'DejaVu Sans', 'Bitstream Vera Sans', Verdana, sans-serif";

  function bytes(b64) {
    var s = atob(b64.trim()), out = new Uint8Array(s.length);
    for (var i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }

  // -- decoding -------------------------------------------------------------------
  function arrays(pool, offsets) {  // undo the delta coding once per distinct array
    var cache = new Map();
    return function arr(k) {
      var a = cache.get(k);
      if (!a) {
        var src = pool.subarray(offsets[k], offsets[k + 1]), acc = 0;
        a = new Int32Array(src.length);
        for (var i = 0; i < src.length; i++) { acc += src[i]; a[i] = acc; }
        cache.set(k, a);
      }
      return a;
    };
  }

  function decode(buf) {
    var n = new DataView(buf).getUint32(0, true);
    var meta = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, n)));
    var i32 = new Int32Array(buf, 4 + n, meta.n_int32);
    var pool = new Int16Array(buf, 4 + n + 4 * meta.n_int32, meta.n_int16);
    var na = meta.n_arrays, nart = meta.n_artists;
    var offsets = i32.subarray(0, na + 1);
    var frames = i32.subarray(na + 1, na + 1 + meta.n_frames * nart * 4);
    var combos = i32.subarray(na + 1 + meta.n_frames * nart * 4);
    return {meta: meta, frames: frames, combos: combos, arr: arrays(pool, offsets)};
  }

  // -- state ----------------------------------------------------------------------
  function readState(id, controls, search) {
    var params = new URLSearchParams(search), state = [];
    controls.forEach(function (c, i) {
      var v = params.get(id + "." + c.name), k = v === null ? -1 : c.values.indexOf(v);
      state[i] = k >= 0 ? k : c.default;
    });
    return state;
  }

  function comboOf(controls, state) {
    var combo = 0, s = 1;
    for (var i = controls.length - 1; i >= 0; i--) {
      combo += state[i] * s;
      s *= controls[i].values.length;
    }
    return combo;
  }

  // -- controls -------------------------------------------------------------------
  function buildControls(id, controls, state, onMove) {
    var panel = document.createElement("div");
    panel.className = "cl-controls";
    panel.style.cssText = "display:flex;flex-wrap:wrap;gap:0.3em 1.5em;margin:0.4em 0;font-size:0.9em";
    var link = document.createElement("a");
    link.textContent = "link to this setting";
    link.className = "cl-link";

    var outputs = controls.map(function (c, i) {
      var box = document.createElement("div"), label = document.createElement("label");
      var inputId = "cl-" + id + "-" + c.name, input, out = null;
      box.style.cssText = "display:flex;align-items:center;gap:0.4em";
      label.textContent = c.label;
      label.htmlFor = inputId;
      box.appendChild(label);
      if (c.kind === "range") {
        input = document.createElement("input");
        input.type = "range"; input.min = 0; input.max = c.values.length - 1; input.step = 1;
        input.value = state[i];
        input.addEventListener("input", function (ev) { state[i] = +input.value; onMove(ev); });
      } else if (c.kind === "select") {
        input = document.createElement("select");
        c.values.forEach(function (v, k) { input.add(new Option(v, String(k))); });
        input.value = String(state[i]);
        input.addEventListener("change", function (ev) { state[i] = +input.value; onMove(ev); });
      } else if (c.kind === "checkbox") {
        input = document.createElement("input");
        input.type = "checkbox"; input.checked = state[i] === 1;
        input.addEventListener("change", function (ev) { state[i] = input.checked ? 1 : 0; onMove(ev); });
      } else {
        input = document.createElement("span");
        input.textContent = c.values[0] + " (fixed here)";
      }
      input.id = inputId;
      input.dataset.control = c.name;
      box.appendChild(input);
      if (c.kind === "range") {
        out = document.createElement("output");
        out.htmlFor = inputId;
        // As wide as the longest value, so the controls after it never move.
        var longest = Math.max.apply(null, c.values.map(function (v) { return String(v).length; }));
        out.style.cssText = "display:inline-block;white-space:nowrap;" +
          "font-variant-numeric:tabular-nums;width:" + (longest + 1) + "ch";
        box.appendChild(out);
      }
      panel.appendChild(box);
      return {input: input, out: out};
    });
    panel.appendChild(link);
    // What the picture now says (its titles), read out by screen readers after a move.
    var status = document.createElement("p");
    status.className = "cl-status";
    status.setAttribute("aria-live", "polite");
    status.style.cssText = "position:absolute;width:1px;height:1px;margin:-1px;padding:0;" +
      "overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0";
    panel.appendChild(status);
    // In a notebook the arrows, Home, End, Page keys and space belong to the focused
    // control, not to the notebook's shortcuts (JupyterLab would move between cells).
    panel.dataset.lmSuppressShortcuts = "true";
    panel.addEventListener("keydown", function (ev) {
      if (/^(Arrow|Page|Home$|End$| $)/.test(ev.key)) ev.stopPropagation();
    });
    return {panel: panel, link: link, outputs: outputs, status: status};
  }

  // The readouts, and the canvas's name: what its titles say, then the setting.
  function readouts(canvas, controls, outputs, state, said) {
    controls.forEach(function (c, i) {
      var o = outputs[i];
      if (o.out) {
        o.out.value = c.values[state[i]];
        o.input.setAttribute("aria-valuetext", c.label + " " + c.values[state[i]]);
      }
    });
    if (!canvas) return;
    var setting = controls.map(function (c, i) {
      return c.label + " " + c.values[state[i]];
    }).join(", ");
    canvas.setAttribute("aria-label", (said && said.length ? said.join("; ") + ". " : "") +
      "Setting: " + setting);
  }

  // -- drawing --------------------------------------------------------------------
  function makeCanvas(w, h) {
    var canvas = document.createElement("canvas");
    canvas.width = w; canvas.height = h;
    canvas.style.maxWidth = "100%"; canvas.style.height = "auto"; canvas.style.display = "block";
    canvas.setAttribute("role", "img");
    return canvas;
  }

  function drawLine(ctx, st, xs, ys, br, q) {
    var n = xs.length, c = st.clip;
    ctx.save();
    ctx.beginPath(); ctx.rect(c[0], c[1], c[2] - c[0], c[3] - c[1]); ctx.clip();
    if (st.lw > 0 && n > 1) {
      ctx.beginPath();
      var b = 0, next = br ? br[0] : 0;
      for (var i = 0; i < n; i++) {
        if (i === next) {
          ctx.moveTo(xs[i] / q, ys[i] / q);
          b++; next = br && b < br.length ? br[b] : -1;
        } else {
          ctx.lineTo(xs[i] / q, ys[i] / q);
        }
      }
      ctx.lineWidth = st.lw; ctx.strokeStyle = st.c;
      ctx.lineCap = st.cap || "butt"; ctx.lineJoin = st.join || "round";
      ctx.setLineDash(st.dash || []);
      ctx.stroke();
    }
    if (st.m) {
      var r = st.m === "." ? st.ms / 4 : st.ms / 2;
      ctx.fillStyle = st.mc; ctx.beginPath();
      for (var j = 0; j < n; j++) {
        var x = xs[j] / q, y = ys[j] / q;
        if (st.m === "s") { ctx.rect(x - r, y - r, 2 * r, 2 * r); continue; }
        ctx.moveTo(x + r, y); ctx.arc(x, y, r, 0, 2 * Math.PI);
      }
      ctx.fill();
    }
    ctx.restore();
  }

  var BASE = {top: "top", bottom: "bottom", center: "middle", center_baseline: "middle",
              baseline: "alphabetic"};
  function drawText(ctx, st, text, x, y) {
    var lines = text.split("\n"), lh = st.fs * st.ls, h = lh * (lines.length - 1);
    var base = BASE[st.va] || "alphabetic";
    ctx.save();
    ctx.translate(x, y);
    if (st.rot) ctx.rotate(-st.rot * Math.PI / 180);
    ctx.font = st.fw + " " + st.fs + "px " + FONT;
    ctx.textAlign = st.ha === "center" ? "center" : st.ha === "right" ? "right" : "left";
    ctx.textBaseline = base;
    var y0 = base === "top" ? 0 : base === "middle" ? -h / 2 : -h;
    if (st.box) {
      var w = Math.max.apply(null, lines.map(function (t) { return ctx.measureText(t).width; }));
      var left = ctx.textAlign === "center" ? -w / 2 : ctx.textAlign === "right" ? -w : 0;
      var top = base === "top" ? 0 : base === "middle" ? -(h + st.fs) / 2
        : base === "bottom" ? -(h + st.fs) : -(h + 0.8 * st.fs);
      var p = st.box.pad;
      ctx.beginPath();
      if (ctx.roundRect) ctx.roundRect(left - p, top - p, w + 2 * p, h + st.fs + 2 * p, p);
      else ctx.rect(left - p, top - p, w + 2 * p, h + st.fs + 2 * p);
      ctx.fillStyle = st.box.fc; ctx.fill();
      ctx.lineWidth = st.box.lw; ctx.strokeStyle = st.box.ec; ctx.stroke();
    }
    ctx.fillStyle = st.c;
    lines.forEach(function (t, i) { ctx.fillText(t, 0, y0 + i * lh); });
    ctx.restore();
  }

  // rows: a flat int array of [style, a, b, c] per moving artist (style < 0: hidden).
  // A line's a, b, c are array numbers (x, y, sub-path starts or -1); a text's are its
  // text number and position, in 1/q px.
  // Returns the texts it drew (titles and notes that change with the setting).
  function drawFrame(ctx, bg, rows, t) {
    var arr = t.arr, q = t.q, said = [];
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, t.w, t.h);
    ctx.drawImage(bg, 0, 0);
    for (var at = 0; at + 3 < rows.length; at += 4) {
      if (rows[at] < 0) continue;
      var st = t.styles[rows[at]];
      if (st.k === "line") {
        drawLine(ctx, st, arr(rows[at + 1]), arr(rows[at + 2]),
                 rows[at + 3] >= 0 ? arr(rows[at + 3]) : null, q);
      } else {
        drawText(ctx, st, t.texts[rows[at + 1]], rows[at + 2] / q, rows[at + 3] / q);
        said.push(t.texts[rows[at + 1]].replace(/\s+/g, " "));
      }
    }
    return said;
  }

  // -- phones: the panels one above another ----------------------------------------
  // Panels side by side, shrunk to a phone's width, have labels too small to read.
  // When the page gives the figure less than STACK_BELOW of its width, each panel
  // (a full-height column of the figure, [left, right) in canvas px, `data.panels`)
  // is drawn below the one before it, on a canvas as wide as the widest panel.
  var STACK_BELOW = 0.75;
  function stacking(root, data) {
    var panels = data.panels || [];
    if (panels.length < 2 || root.clientWidth >= STACK_BELOW * data.w) return null;
    var w = Math.max.apply(null, panels.map(function (p) { return p[1] - p[0]; }));
    return {w: w, h: data.h * panels.length, panels: panels};
  }

  // One frame, stacked: the frame drawn whole on `full` (without the message), then
  // each panel copied below the previous, then the message (a refusal, the frame's
  // last row) in the middle of the stacked picture. Returns the texts drawn.
  function drawStacked(ctx, full, bg, rows, t, stack) {
    var last = rows.length - 4, body = rows.slice();
    body[last] = -1;
    var said = drawFrame(full.getContext("2d"), bg, body, t);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, stack.w, stack.h);
    stack.panels.forEach(function (p, i) {
      var pw = p[1] - p[0], dx = Math.round((stack.w - pw) / 2);
      ctx.drawImage(full, p[0], 0, pw, t.h, dx, i * t.h, pw, t.h);
    });
    if (rows[last] >= 0) {
      var text = t.texts[rows[last + 1]];
      drawText(ctx, t.styles[rows[last]], text, stack.w / 2, stack.h / 2);
      said.push(text.replace(/\s+/g, " "));
    }
    return said;
  }

  // -- the URL --------------------------------------------------------------------
  // The setting lives in the query string (the # part is the page's section links),
  // under keys namespaced by this explorer's id; defaults are left out.
  function settingUrl(id, controls, state) {
    var p = new URLSearchParams(location.search);
    controls.forEach(function (c, i) {
      var key = id + "." + c.name;
      if (state[i] === c.default) p.delete(key); else p.set(key, c.values[state[i]]);
    });
    var qs = p.toString();
    return location.pathname + (qs ? "?" + qs : "") + location.hash;
  }

  function syncUrl(link, url, inNotebook) {
    link.href = url;
    if (inNotebook) return;  // a notebook's URL belongs to JupyterLab
    try { history.replaceState(history.state, "", url); } catch (e) { /* e.g. sandboxed */ }
  }

  // -- stats ----------------------------------------------------------------------
  // root.clStats: the first frame's time and every move's input-to-frame time (ms);
  // each move also fires "cl-drawn" (detail: ms), the first frame "cl-ready".
  function makeStats(root) {
    var stats = root.clStats = {first: 0, moves: [], draws: 0};
    return {
      stats: stats,
      drawn: function (t0) {  // after a draw: time to the frame that shows it
        stats.draws++;
        requestAnimationFrame(function () {  // the frame that shows the drawing has begun
          var ms = performance.now() - t0;
          stats.moves.push(ms);
          root.dispatchEvent(new CustomEvent("cl-drawn", {detail: ms}));
        });
      },
      ready: function () {
        requestAnimationFrame(function () {
          stats.first = performance.now();
          root.dataset.rendered = "1";
          root.dispatchEvent(new CustomEvent("cl-ready"));
        });
      }
    };
  }

  // -- a recorded explorer --------------------------------------------------------
  // The controls are built at once, from the explorer's data in the page (uncompressed
  // JSON), so their box is there at the first paint; the canvas takes the fallback
  // picture's place, of the same size, when the recording is decoded. Nothing on the
  // page moves when the explorer comes alive.
  function start(root, buf, bg, live) {
    var id = root.dataset.explorer;
    var data = decode(buf), meta = data.meta, controls = live.controls, state = live.state;
    var nart = meta.n_artists, stack = live.stack, ui = live.ui;
    var tables = {w: meta.w, h: meta.h, q: meta.q, styles: meta.styles, texts: meta.texts,
                  arr: data.arr};
    var canvas = stack ? makeCanvas(stack.w, stack.h) : makeCanvas(meta.w, meta.h);
    var ctx = canvas.getContext("2d");
    var full = null;
    if (stack) {
      full = document.createElement("canvas");
      full.width = meta.w; full.height = meta.h;
    }
    var link = ui.link;

    var said = [];
    function render() {
      var f = data.combos[comboOf(controls, state)];
      var rows = data.frames.subarray(f * nart * 4, (f + 1) * nart * 4);
      said = stack ? drawStacked(ctx, full, bg, rows, tables, stack)
                   : drawFrame(ctx, bg, rows, tables);
      root.dataset.frame = f;
    }

    var inNotebook = !!root.closest(".jp-OutputArea, .output_area, .jp-Notebook");
    // In a notebook the page's URL is the notebook server's: a link to it shares nothing.
    if (inNotebook) link.style.display = "none";
    var timer = 0;
    function settled() {  // after the last move of a burst: the URL, and what to read out
      syncUrl(link, settingUrl(id, controls, state), inNotebook);
      ui.status.textContent = said.join("; ");
    }

    var stats = makeStats(root);
    function moved(ev) {
      var t0 = ev && ev.timeStamp ? ev.timeStamp : performance.now();
      render();
      readouts(canvas, controls, ui.outputs, state, said);
      clearTimeout(timer);
      // Browsers throttle a burst of replaceState calls; a screen reader would read
      // every step of a held arrow key.
      timer = setTimeout(settled, 150);
      stats.drawn(t0);
    }

    render();
    readouts(canvas, controls, ui.outputs, state, said);
    link.href = settingUrl(id, controls, state);
    var fallback = root.querySelector(".cl-fallback");
    root.insertBefore(canvas, fallback);
    fallback.hidden = true;
    fallback.style.display = "none";
    live.onMove = moved;
    stats.ready();
  }

  function clExplorer(root) {
    if (!root || root.dataset.ready || typeof DecompressionStream === "undefined") {
      return;  // without DecompressionStream the fallback picture stays
    }
    root.dataset.ready = "1";
    var data = JSON.parse(root.querySelector(".cl-data").textContent);
    var id = root.dataset.explorer, controls = data.controls;
    var state = readState(id, controls, location.search);
    var live = {controls: controls, state: state, stack: stacking(root, data), onMove: null};
    var fallback = root.querySelector(".cl-fallback");
    if (live.stack) {  // the picture's box becomes the stacked canvas's at once
      fallback.style.width = live.stack.w + "px";
      fallback.style.aspectRatio = live.stack.w + " / " + live.stack.h;
      fallback.style.objectFit = "contain";
    }
    live.ui = buildControls(id, controls, state, function (ev) {
      if (live.onMove) live.onMove(ev);
      else readouts(null, controls, live.ui.outputs, state);  // the recording still loads
    });
    readouts(null, controls, live.ui.outputs, state);
    var note = root.querySelector(".cl-grid-note");
    root.insertBefore(live.ui.panel, note);
    note.hidden = false;
    note.style.cssText = "font-size:0.8em;margin:0";

    var bg = new Image();
    var bgReady = new Promise(function (ok, fail) { bg.onload = ok; bg.onerror = fail; });
    bg.src = "data:image/png;base64," + root.querySelector(".cl-bg").textContent.trim();
    var stream = new Blob([bytes(root.querySelector(".cl-blob").textContent)]).stream()
      .pipeThrough(new DecompressionStream("deflate"));
    Promise.all([new Response(stream).arrayBuffer(), bgReady]).then(function (r) {
      start(root, r[0], bg, live);
    }).catch(function (e) {
      root.dataset.error = String(e);  // keep the fallback picture; never throw at the reader
    });
  }

  // The parts, for the live figure (convergence_lab.live_view) and for tests.
  clExplorer.decode = decode;
  clExplorer.arrays = arrays;
  clExplorer.readState = readState;
  clExplorer.buildControls = buildControls;
  clExplorer.makeCanvas = makeCanvas;
  clExplorer.drawFrame = drawFrame;
  clExplorer.stacking = stacking;
  clExplorer.settingUrl = settingUrl;
  clExplorer.syncUrl = syncUrl;
  clExplorer.makeStats = makeStats;
  return clExplorer;
})());
