// Drawing one control chart as SVG: the zones, the center line and limits, the points,
// and the axes (values in the measurement's unit, subgroups and times). Labels never
// overlap and never leave the chart: the limits' labels are spread apart, and test
// numbers of flagged points are thinned out where they would collide.
"use strict";

const ChartDraw = (() => {
  const SVG = "http://www.w3.org/2000/svg";
  const WIDTH = 960, HEIGHT = 420;
  // Room around the plot: tick values and the axis title on the left, the limits'
  // labels on the right, test numbers above, subgroups and times below.
  const BOX = { left: 84, right: 112, top: 30, bottom: 64 };
  const LABEL_GAP = 18; // between the baselines of two limit labels (CJK glyphs are tall)

  const number = (value) => Number(value).toPrecision(6).replace(/\.?0+$/, "");

  function svg(tag, attributes = {}, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Ticks at 1, 2 or 5 times a power of ten, about `count` of them across [low, high].
  function ticks(low, high, count = 6) {
    const raw = (high - low) / count;
    const power = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 5, 10].map((k) => k * power).find((s) => s >= raw) || raw;
    const out = [];
    for (let v = Math.ceil(low / step) * step; v <= high + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
    return out;
  }

  // The value range drawn: the limits and every point, with a margin.
  function range(shown) {
    const last = shown[shown.length - 1];
    let low = Math.min(last.lcl, ...shown.map((p) => p.value));
    let high = Math.max(last.ucl, ...shown.map((p) => p.value));
    const margin = (high - low) * 0.08 || 1;
    return [low - margin, high + margin];
  }

  // Baselines `LABEL_GAP` apart at least, in the same order, inside [top, bottom].
  function spread(wanted, top, bottom) {
    const order = wanted.map((y, i) => [y, i]).sort((a, b) => a[0] - b[0]);
    const placed = [];
    for (const [y] of order) placed.push(Math.max(y, placed.length ? placed[placed.length - 1] + LABEL_GAP : top));
    // Pushed past the bottom: walk back up from it.
    for (let i = placed.length - 1; i >= 0; i -= 1) {
      const limit = i + 1 < placed.length ? placed[i + 1] - LABEL_GAP : bottom;
      if (placed[i] <= limit) break;
      placed[i] = limit;
    }
    const out = new Array(wanted.length);
    order.forEach(([, index], k) => { out[index] = placed[k]; });
    return out;
  }

  function yAxis(chart, y, low, high, unit, measurement, t) {
    const plotBottom = HEIGHT - BOX.bottom;
    chart.append(svg("line", { class: "axis", x1: BOX.left, x2: BOX.left, y1: BOX.top, y2: plotBottom }));
    for (const value of ticks(low, high)) {
      chart.append(svg("line", { class: "tick", x1: BOX.left - 5, x2: BOX.left, y1: y(value), y2: y(value) }));
      chart.append(svg("text", { class: "axis-label tick-value", x: BOX.left - 8, y: y(value) + 4, "text-anchor": "end" }, number(value)));
    }
    const title = unit ? `${measurement || t("value")} (${unit})` : measurement || t("value");
    const middle = (BOX.top + plotBottom) / 2;
    chart.append(svg("text", { class: "axis-title y-title", x: 14, y: middle, "text-anchor": "middle",
      transform: `rotate(-90 14 ${middle})` }, title));
  }

  // Subgroup numbers under the points (at most about ten), and the first and last
  // point's times under them.
  function xAxis(chart, shown, x, t, when) {
    const plotBottom = HEIGHT - BOX.bottom;
    chart.append(svg("line", { class: "axis", x1: BOX.left, x2: WIDTH - BOX.right, y1: plotBottom, y2: plotBottom }));
    const every = Math.max(1, Math.ceil(shown.length / 10));
    shown.forEach((p, i) => {
      if (i % every) return;
      chart.append(svg("line", { class: "tick", x1: x(i), x2: x(i), y1: plotBottom, y2: plotBottom + 5 }));
      chart.append(svg("text", { class: "axis-label subgroup-number", x: x(i), y: plotBottom + 18, "text-anchor": "middle" }, String(p.subgroup)));
    });
    const row = HEIGHT - 12;
    chart.append(svg("text", { class: "axis-label time-label", x: BOX.left, y: row, "text-anchor": "start" }, when(shown[0].at)));
    chart.append(svg("text", { class: "axis-title x-title", x: (BOX.left + WIDTH - BOX.right) / 2, y: row, "text-anchor": "middle" }, t("subgroup")));
    if (shown.length > 1) {
      chart.append(svg("text", { class: "axis-label time-label", x: WIDTH - BOX.right, y: row, "text-anchor": "end" }, when(shown[shown.length - 1].at)));
    }
  }

  function limits(chart, y, last, t) {
    const lines = [["ucl", last.ucl, "limit"], ["center", last.center, "center"], ["lcl", last.lcl, "limit"]];
    const at = spread(lines.map(([, value]) => y(value) + 4), BOX.top, HEIGHT - BOX.bottom);
    lines.forEach(([key, value, cls], i) => {
      chart.append(svg("line", { class: cls, x1: BOX.left, x2: WIDTH - BOX.right, y1: y(value), y2: y(value) }));
      chart.append(svg("text", { class: "line-label", x: WIDTH - BOX.right + 6, y: at[i] }, `${t(key)} ${number(value)}`));
    });
  }

  function marker(p, cx, cy, t, when) {
    const flagged = p.tests.length > 0;
    const group = svg("g", { class: flagged ? "point flagged" : "point", "data-subgroup": p.subgroup, "data-tests": p.tests.join(",") });
    group.append(svg("circle", { cx, cy, r: flagged ? 6 : 3.5 }));
    group.append(svg("title", {}, `${t("subgroup")} ${p.subgroup}: ${number(p.value)}${p.unit ? ` ${p.unit}` : ""} · ${when(p.at)}`
      + (flagged ? ` · ${t("tests")} ${p.tests.join(", ")}` : "")));
    // Above the point, or below it when there is no room above.
    const above = cy - 10 - 12 >= 0;
    if (flagged) group.append(svg("text", { class: "test-number", x: cx, y: above ? cy - 10 : cy + 20, "text-anchor": "middle" }, p.tests.join(",")));
    return group;
  }

  const overlap = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

  // Once in the page (sizes are known only then): every test number that would overlap
  // a label already kept, or run off the chart, is taken out, oldest point first kept.
  function thin(chart) {
    // The rotated axis title is left out: getBBox ignores its rotation, and no test
    // number comes near it (points start right of the tick values).
    const kept = [...chart.querySelectorAll("text:not(.test-number):not(.y-title)")].map((node) => node.getBBox());
    for (const label of chart.querySelectorAll("text.test-number")) {
      const box = label.getBBox();
      const inside = box.x >= 0 && box.y >= 0 && box.x + box.width <= WIDTH && box.y + box.height <= HEIGHT;
      if (!inside || kept.some((other) => overlap(box, other))) {
        label.closest("g.point").dataset.labelHidden = "true";
        label.remove();
      } else {
        kept.push(box);
      }
    }
  }

  // The chart of `shown` (oldest first) in `node`; `t` translates, `when` writes a time.
  function draw(node, shown, { name, t, when }) {
    const last = shown[shown.length - 1];
    const [low, high] = range(shown);
    const plotBottom = HEIGHT - BOX.bottom;
    const y = (value) => BOX.top + (high - value) / (high - low) * (plotBottom - BOX.top);
    const step = (WIDTH - BOX.left - BOX.right) / Math.max(shown.length - 1, 1);
    const x = (i) => BOX.left + i * step;
    const sigma = (last.ucl - last.center) / 3;
    const chart = svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: "spc", role: "img",
      "aria-label": `${t("chart")} ${name}`, "data-chart": last.chart });
    // Zones C, B and A (within 1, 2 and 3 sigma of the center), lightest nearest it,
    // clipped to the plot so a far point's scale cannot push them over the axes.
    for (const [k, zone] of [[3, "a"], [2, "b"], [1, "c"]]) {
      const top = Math.max(y(last.center + k * sigma), BOX.top), bottom = Math.min(y(last.center - k * sigma), plotBottom);
      if (bottom > top) chart.append(svg("rect", { class: `zone zone-${zone}`, x: BOX.left, y: top, width: WIDTH - BOX.left - BOX.right, height: bottom - top }));
    }
    yAxis(chart, y, low, high, last.unit, last.measurement, t);
    xAxis(chart, shown, x, t, when);
    limits(chart, y, last, t);
    chart.append(svg("polyline", { class: "trace", points: shown.map((p, i) => `${x(i)},${y(p.value)}`).join(" ") }));
    shown.forEach((p, i) => chart.append(marker(p, x(i), y(p.value), t, when)));
    node.replaceChildren(chart);
    thin(chart);
  }

  return { draw, ticks, number };
})();
