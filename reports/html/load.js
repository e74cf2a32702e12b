// sioload report charts (reports/loadhtml.go). RUNS is the data written
// by the Go renderer; uPlot is embedded above. Every time chart draws the
// phases as bands and the markers (faults, threshold breaches) as lines.
(function () {
  "use strict";
  const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"];
  const PHASE_FILL = { ramp: "rgba(31,119,180,0.07)", hold: "rgba(0,0,0,0)", load: "rgba(0,0,0,0)", grace: "rgba(255,127,14,0.09)", closing: "rgba(140,86,75,0.10)" };
  const MARK_COLOR = { fault: "#b3261e", threshold: "#8a5300" };
  const KIND_DASH = [[], [6, 3], [2, 2], [10, 3, 2, 3], [1, 3]];
  const multi = RUNS.length > 1;
  const charts = document.getElementById("charts");

  document.querySelectorAll(".swatch").forEach(function (el) {
    el.style.background = COLORS[Number(el.dataset.run) % COLORS.length];
  });
  document.querySelectorAll("section.run").forEach(function (el) {
    el.style.borderLeftColor = COLORS[Number(el.dataset.run) % COLORS.length];
  });

  function label(run, what) { return multi ? run.name + " " + what : what; }

  // decorations draws phases (drawClear) and markers (draw) of every run.
  function decorations() {
    function x(u, v) { return u.valToPos(v, "x", true); }
    return {
      hooks: {
        drawClear: [function (u) {
          const ctx = u.ctx, b = u.bbox;
          RUNS.forEach(function (run) {
            (run.phases || []).forEach(function (p) {
              const fill = PHASE_FILL[p.phase];
              if (!fill) return;
              const x0 = Math.max(b.left, x(u, p.range[0])), x1 = Math.min(b.left + b.width, x(u, p.range[1]));
              if (x1 <= x0) return;
              ctx.fillStyle = fill;
              ctx.fillRect(x0, b.top, x1 - x0, b.height);
            });
          });
        }],
        draw: [function (u) {
          const ctx = u.ctx, b = u.bbox, dpr = window.devicePixelRatio || 1;
          ctx.save();
          ctx.font = (10 * dpr) + "px system-ui, sans-serif";
          RUNS.forEach(function (run, ri) {
            let row = 0;
            (run.markers || []).forEach(function (m) {
              const px = x(u, m.t);
              if (px < b.left || px > b.left + b.width) return;
              const phase = m.kind === "phase";
              ctx.strokeStyle = phase ? "#999" : (multi ? COLORS[ri % COLORS.length] : MARK_COLOR[m.kind] || "#333");
              ctx.lineWidth = dpr;
              ctx.setLineDash(phase ? [2 * dpr, 3 * dpr] : [5 * dpr, 3 * dpr]);
              ctx.beginPath();
              ctx.moveTo(px, b.top);
              ctx.lineTo(px, b.top + b.height);
              ctx.stroke();
              ctx.fillStyle = ctx.strokeStyle;
              ctx.fillText(m.text, px + 3 * dpr, b.top + (12 + 11 * (row++ % 4) + 44 * ri) * dpr);
            });
          });
          ctx.restore();
        }],
      },
    };
  }

  // chart adds a time chart: lines is a list of {run, name, values, dash,
  // width, scale} over each run's interval starts, aligned with uPlot.join.
  function chart(title, yLabel, lines, opts) {
    opts = opts || {};
    if (!lines.length) return null;
    const tables = [], series = [{ label: opts.xLabel || "t (s)" }];
    lines.forEach(function (l) {
      tables.push([l.x || RUNS[l.run].t, l.values]);
      series.push({
        label: l.name, stroke: l.color || COLORS[l.run % COLORS.length], width: l.width || 1.5,
        dash: l.dash || [], scale: l.scale || "y", spanGaps: false,
        value: function (u, v) { return v == null ? "-" : (+v.toFixed(3)).toString(); },
      });
    });
    const data = tables.length === 1 ? tables[0] : uPlot.join(tables);
    const box = document.createElement("div");
    box.className = "chart";
    box.dataset.title = title;
    const h = document.createElement("h3");
    h.textContent = title;
    box.appendChild(h);
    if (opts.note) {
      const p = document.createElement("p");
      p.className = "note" + (opts.warn ? " warning" : "");
      p.textContent = opts.note;
      box.appendChild(p);
    }
    charts.appendChild(box);
    const axes = [{ label: opts.xLabel || "seconds since the start" }, { label: yLabel, size: 60 }];
    const scales = { x: { time: false } };
    if (opts.xLog) scales.x.distr = 3;
    if (opts.y2) {
      scales.y2 = {};
      axes.push({ scale: "y2", side: 1, label: opts.y2, grid: { show: false }, size: 60 });
    }
    new uPlot({
      width: 600, height: 260, scales: scales, axes: axes, series: series,
      legend: { live: true }, cursor: { drag: { x: true, y: false } },
      plugins: opts.noMarkers ? [] : [decorations()],
    }, data, box);
    return box;
  }

  function each(fn) { const out = []; RUNS.forEach(function (r, i) { fn(r, i, out); }); return out; }
  function names(key) {
    const s = new Set();
    RUNS.forEach(function (r) { Object.keys(r[key] || {}).forEach(function (k) { s.add(k); }); });
    return Array.from(s).sort();
  }

  const latencyOrder = ["handshake", "upgrade", "connect", "ack", "event", "reconnect"];
  const stats = ["p50", "p90", "p99", "max"];
  latencyOrder.forEach(function (name) {
    chart("latency: " + name + " (p50, p90, p99, max per interval)", "ms", each(function (r, i, out) {
      const m = r.lat && r.lat[name];
      if (!m) return;
      stats.forEach(function (st, k) {
        // One run: a colour per statistic; several: a colour per run,
        // a dash per statistic.
        out.push({ run: i, name: label(r, st), values: m[st], dash: multi ? KIND_DASH[k] : [], width: k === 0 ? 2 : 1.5, color: multi ? null : COLORS[k] });
      });
    }));
    chart("percentile spectrum: " + name + " (whole run)", "ms", each(function (r, i, out) {
      const s = r.spectrum && r.spectrum[name];
      if (s) out.push({ run: i, name: label(r, name), x: s[0], values: s[1], width: 2 });
    }), { xLog: true, xLabel: "1/(1-percentile): 10 = p90, 100 = p99, 1000 = p99.9", noMarkers: true });
  });

  chart("messages per second", "msgs/s", each(function (r, i, out) {
    if (!r.t) return;
    out.push({ run: i, name: label(r, "sent"), values: r.rates.messages_sent, width: 2 });
    out.push({ run: i, name: label(r, "received"), values: r.rates.messages_received, dash: [6, 3] });
  }));
  chart("connected clients", "clients", each(function (r, i, out) {
    if (r.t) out.push({ run: i, name: label(r, "connected"), values: r.clients, width: 2 });
  }));
  [["errors", "errors by kind (per second)", "errors/s"], ["disconnects", "disconnects by reason (per second)", "per s"]].forEach(function (c) {
    const kinds = names(c[0]);
    chart(c[1], c[2], each(function (r, i, out) {
      kinds.forEach(function (k, j) {
        if (r[c[0]][k]) out.push({ run: i, name: label(r, k), values: r[c[0]][k], dash: KIND_DASH[j % KIND_DASH.length], color: multi ? null : COLORS[(j + 1) % COLORS.length] });
      });
    }));
  });
  chart("reconnects per interval", "sessions", each(function (r, i, out) {
    if (!r.t) return;
    ["reconnects", "recovered", "dropped", "reconnect_failed"].forEach(function (k, j) {
      out.push({ run: i, name: label(r, k), values: r.reconnects[k], dash: KIND_DASH[j], color: multi ? null : COLORS[j % COLORS.length] });
    });
  }));
  const fan = RUNS.some(function (r) { return r.lat && (r.lat.fanout_first || r.lat.fanout_last); });
  if (fan) {
    chart("broadcast fan-out: first / median / last receiver (p50) and reach", "ms", each(function (r, i, out) {
      ["fanout_first", "fanout_median", "fanout_last"].forEach(function (k, j) {
        if (r.lat[k]) out.push({ run: i, name: label(r, k.replace("fanout_", "")), values: r.lat[k].p50, dash: KIND_DASH[j], color: multi ? null : COLORS[j] });
      });
      if (r.reach) out.push({ run: i, name: label(r, "reach %"), values: r.reach, scale: "y2", dash: [1, 3], width: 2 });
    }), { y2: "reach %" });
  }
  const warnings = [];
  RUNS.forEach(function (r) { (r.warnings || []).forEach(function (w) { if (w.indexOf("generator") >= 0) warnings.push(label(r, w)); }); });
  chart("generator health: CPU and timer lag", "CPU (cores)", each(function (r, i, out) {
    if (!r.health || !r.health.cpu) return;
    out.push({ run: i, name: label(r, "cpu"), values: r.health.cpu, width: 2 });
    out.push({ run: i, name: label(r, "timer lag p99 ms"), values: r.health.timer_lag_p99_ms, scale: "y2", dash: [6, 3] });
    out.push({ run: i, name: label(r, "timer lag max ms"), values: r.health.timer_lag_max_ms, scale: "y2", dash: [2, 2], width: 1 });
  }), { y2: "timer lag (ms)", note: warnings.length ? warnings.join(" ") : "no sign that the generator was the bottleneck", warn: warnings.length > 0 });
  chart("generator memory and goroutines", "RSS (MiB)", each(function (r, i, out) {
    if (!r.health || !r.health.rss_mib) return;
    out.push({ run: i, name: label(r, "rss MiB"), values: r.health.rss_mib, width: 2 });
    out.push({ run: i, name: label(r, "goroutines"), values: r.health.goroutines, scale: "y2", dash: [6, 3] });
  }), { y2: "goroutines" });
})();
