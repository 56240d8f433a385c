// Small inline SVG charts: a line chart, a bar chart and a funnel. Each is
// a <figure> whose SVG has a title and a text summary for screen readers.

const NS = 'http://www.w3.org/2000/svg';
const W = 600;
const H = 200;
const PAD = { l: 44, r: 8, t: 12, b: 28 };

function svgEl(name, attrs, text) {
  const el = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

function figure(title, summary, svg, legend) {
  const fig = document.createElement('figure');
  fig.className = 'chart';
  const cap = document.createElement('figcaption');
  cap.textContent = title;
  fig.append(cap);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `${title}: ${summary}`);
  svg.prepend(svgEl('title', {}, title));
  fig.append(svg);
  if (legend) fig.append(legend);
  return fig;
}

/** A nice upper bound for the y axis. */
function top(values) {
  const max = Math.max(1, ...values);
  const step = 10 ** Math.floor(Math.log10(max));
  return Math.ceil(max / step) * step;
}

function axes(svg, labels, ymax) {
  const x0 = PAD.l;
  const y0 = H - PAD.b;
  svg.append(svgEl('line', { x1: x0, y1: y0, x2: W - PAD.r, y2: y0, class: 'axis' }));
  svg.append(svgEl('line', { x1: x0, y1: PAD.t, x2: x0, y2: y0, class: 'axis' }));
  svg.append(svgEl('text', { x: x0 - 4, y: PAD.t + 12, class: 'tick', 'text-anchor': 'end' }, ymax));
  svg.append(svgEl('text', { x: x0 - 4, y: y0, class: 'tick', 'text-anchor': 'end' }, 0));
  // First, middle and last day only: the chart stays legible at 390 px.
  const picks = [...new Set([0, Math.floor((labels.length - 1) / 2), labels.length - 1])];
  for (const i of picks) {
    const x = xAt(i, labels.length);
    // The ends are anchored inwards so that their text is not cut off.
    const anchor = i === 0 && labels.length > 1 ? 'start' : i === labels.length - 1 && i > 0 ? 'end' : 'middle';
    svg.append(svgEl('text', { x, y: H - 4, class: 'tick', 'text-anchor': anchor }, labels[i].slice(5)));
  }
}

function xAt(i, n) {
  const span = W - PAD.l - PAD.r;
  return PAD.l + (n <= 1 ? span / 2 : (span * i) / (n - 1));
}

function yAt(v, ymax) {
  return H - PAD.b - ((H - PAD.t - PAD.b) * v) / ymax;
}

/** Lines over days: series = [{name, values, cls}]. */
export function lineChart(title, labels, series) {
  const svg = svgEl('svg', { viewBox: `0 0 ${W} ${H}`, class: 'plot' });
  const ymax = top(series.flatMap((s) => s.values));
  axes(svg, labels, ymax);
  const legend = document.createElement('ul');
  legend.className = 'legend';
  series.forEach((s, k) => {
    const points = s.values.map((v, i) => `${xAt(i, s.values.length).toFixed(1)},${yAt(v, ymax).toFixed(1)}`);
    svg.append(svgEl('polyline', { points: points.join(' '), class: `line s${k}`, 'data-series': s.name }));
    s.values.forEach((v, i) => {
      const dot = svgEl('circle', { cx: xAt(i, s.values.length), cy: yAt(v, ymax), r: 2.5, class: `dot s${k}` });
      dot.append(svgEl('title', {}, `${labels[i]}: ${v}`));
      svg.append(dot);
    });
    const li = document.createElement('li');
    li.className = `s${k}`;
    li.textContent = s.name;
    legend.append(li);
  });
  const last = series.map((s) => `${s.name} ${s.values[s.values.length - 1] ?? 0}`).join(', ');
  return figure(title, `${labels.length} 天 (days); 今天 (today): ${last}`, svg, legend);
}

/** Bars over days. */
export function barChart(title, labels, values) {
  const svg = svgEl('svg', { viewBox: `0 0 ${W} ${H}`, class: 'plot' });
  const ymax = top(values);
  axes(svg, labels, ymax);
  const slot = (W - PAD.l - PAD.r) / Math.max(1, values.length);
  values.forEach((v, i) => {
    const y = yAt(v, ymax);
    const bar = svgEl('rect', {
      x: PAD.l + i * slot + slot * 0.15, y, width: Math.max(1, slot * 0.7),
      height: H - PAD.b - y, class: 'bar', 'data-value': v,
    });
    bar.append(svgEl('title', {}, `${labels[i]}: ${v}`));
    svg.append(bar);
  });
  const total = values.reduce((a, b) => a + b, 0);
  return figure(title, `${labels.length} 天 (days), 共 (total) ${total}`, svg);
}

/** Stages as shrinking bars: stages = [{label, value}]. */
export function funnelChart(title, stages) {
  const rowH = 40;
  const h = stages.length * rowH + 8;
  const svg = svgEl('svg', { viewBox: `0 0 ${W} ${h}`, class: 'plot funnel' });
  const max = Math.max(1, ...stages.map((s) => s.value));
  stages.forEach((s, i) => {
    const width = Math.max(2, ((W - 190) * s.value) / max);
    const y = 4 + i * rowH;
    svg.append(svgEl('text', { x: 0, y: y + 24, class: 'label' }, s.label));
    const bar = svgEl('rect', { x: 150, y, width, height: rowH - 8, class: `bar f${i}`, 'data-value': s.value });
    bar.append(svgEl('title', {}, `${s.label}: ${s.value}`));
    svg.append(bar);
    svg.append(svgEl('text', { x: 150 + width + 6, y: y + 24, class: 'label' }, s.value));
  });
  return figure(title, stages.map((s) => `${s.label} ${s.value}`).join(' → '), svg);
}
