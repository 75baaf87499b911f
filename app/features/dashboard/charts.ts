/**
 * Charts as SVG text, drawn on the server: no script, the same picture in every browser
 * (Edge's IE mode included). Pure functions of their numbers.
 *
 * A chart is a picture for people who read pictures: the SVG is hidden from assistive
 * technology (aria-hidden), and its bars are links for the mouse only (tabindex -1). The
 * page gives each chart a title, a sentence saying what it shows and its numbers as a table
 * whose cells are the same links, for screen readers, keyboards and people who prefer
 * numbers. Colours are told apart by a legend and by the table, never by colour alone.
 */

export interface Series {
  name: string;
  /** CSS class for the fill or stroke (site.css gives the colours). */
  className: string;
  values: number[];
  /** Where a bar of this series links to, per index. */
  href?: (index: number) => string | undefined;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (n: number) => n.toLocaleString('en-GB');

/** A round scale top at or above `max`, and its steps: 0, 5, 10 … 50. */
export function niceScale(max: number, ticks = 4): { top: number; step: number } {
  if (max <= 0) return { top: ticks, step: 1 };
  const raw = max / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw && Number.isInteger(s)) ?? Math.ceil(raw);
  return { top: step * Math.ceil(max / step), step };
}

function linked(inner: string, href: string | undefined, label: string): string {
  const tip = `<title>${esc(label)}</title>`;
  return href ? `<a href="${esc(href)}" tabindex="-1">${tip}${inner}</a>` : `<g>${tip}${inner}</g>`;
}

function svgOpen(width: number, height: number, className: string): string {
  return `<svg class="chart ${className}" viewBox="0 0 ${width} ${height}" width="100%" preserveAspectRatio="xMinYMin meet" aria-hidden="true" focusable="false" xmlns="http://www.w3.org/2000/svg">`;
}

function yAxis(left: number, top: number, plotW: number, plotH: number, scale: { top: number; step: number }, unit = ''): string {
  let out = '';
  for (let v = 0; v <= scale.top; v += scale.step) {
    const y = top + plotH - (v / scale.top) * plotH;
    out += `<line class="grid" x1="${left}" x2="${left + plotW}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}"/>`;
    out += `<text class="tick" x="${left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end">${fmt(v)}${unit}</text>`;
  }
  return out;
}

/** The plotting area of a chart with a value axis: its geometry, the SVG's start and the grid. */
function valueFrame(className: string, width: number, height: number, max: number, unit = '') {
  const left = 40;
  const top = 10;
  const plotW = width - left - 8;
  const plotH = height - top - 28;
  const scale = niceScale(max);
  return { left, top, plotW, plotH, scale, open: svgOpen(width, height, className) + yAxis(left, top, plotW, plotH, scale, unit) };
}

function labelAt(x: number, height: number, label: string): string {
  return `<text class="tick" x="${x.toFixed(1)}" y="${height - 10}" text-anchor="middle">${esc(label)}</text>`;
}

function axisClose(f: { left: number; top: number; plotW: number; plotH: number }): string {
  return `<line class="axis" x1="${f.left}" x2="${f.left + f.plotW}" y1="${f.top + f.plotH}" y2="${f.top + f.plotH}"/></svg>`;
}

/** Bars side by side for each label (raised and resolved per day, say); every `labelEvery`th label is written. */
export function columnChart(o: { labels: string[]; series: Series[]; labelEvery?: number; width?: number; height?: number; unit?: string; max?: number }): string {
  const height = o.height ?? 230;
  const f = valueFrame('chart-columns', o.width ?? 560, height, o.max ?? Math.max(0, ...o.series.flatMap((s) => s.values)), o.unit);
  const slot = f.plotW / Math.max(1, o.labels.length);
  const barW = Math.max(1, (slot * 0.8) / o.series.length);
  let out = f.open;
  o.labels.forEach((label, i) => {
    o.series.forEach((s, j) => {
      const v = s.values[i] ?? 0;
      const h = (v / f.scale.top) * f.plotH;
      const x = f.left + i * slot + slot * 0.1 + j * barW;
      out += linked(`<rect class="${s.className}" x="${x.toFixed(1)}" y="${(f.top + f.plotH - h).toFixed(1)}" width="${barW.toFixed(1)}" height="${Math.max(0, h).toFixed(1)}"/>`, s.href?.(i), `${label}: ${fmt(v)}${o.unit ?? ''} ${s.name}`);
    });
    if (i % (o.labelEvery ?? 1) === 0) out += labelAt(f.left + i * slot + slot / 2, height, label);
  });
  return out + axisClose(f);
}

/** A line per series over the labels (90 days of raised and resolved). */
export function lineChart(o: { labels: string[]; series: Series[]; labelEvery?: number; width?: number; height?: number }): string {
  const height = o.height ?? 210;
  const f = valueFrame('chart-lines', o.width ?? 560, height, Math.max(0, ...o.series.flatMap((s) => s.values)));
  const x = (i: number) => f.left + (o.labels.length <= 1 ? f.plotW / 2 : (i / (o.labels.length - 1)) * f.plotW);
  const y = (v: number) => f.top + f.plotH - (v / f.scale.top) * f.plotH;
  let out = f.open;
  for (const s of o.series) out += `<polyline class="${s.className}" points="${s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`;
  o.labels.forEach((label, i) => {
    if (i % (o.labelEvery ?? 1) === 0) out += labelAt(x(i), height, label);
  });
  return out + axisClose(f);
}

export interface BarRow {
  label: string;
  segments: { value: number; className: string; name: string; href?: string }[];
  /** Written at the end of the bar; the total when absent. */
  note?: string;
}

/** A horizontal bar per row, its segments stacked (backlog by team and priority, load per agent). */
export function barChart(o: { rows: BarRow[]; width?: number; max?: number; unit?: string; labelWidth?: number }): string {
  const width = o.width ?? 560;
  const labelW = o.labelWidth ?? 150;
  const rowH = 26;
  const top = 4;
  const height = top + Math.max(1, o.rows.length) * rowH + 4;
  const plotW = width - labelW - 60;
  const total = (r: BarRow) => r.segments.reduce((n, s) => n + s.value, 0);
  const max = o.max ?? Math.max(1, ...o.rows.map(total));
  let out = svgOpen(width, height, 'chart-bars');
  o.rows.forEach((r, i) => {
    const y = top + i * rowH;
    const label = r.label.length > 20 ? `${r.label.slice(0, 19)}…` : r.label;
    out += `<text class="row-label" x="${labelW - 8}" y="${y + 17}" text-anchor="end">${esc(label)}</text>`;
    let x = labelW;
    for (const s of r.segments) {
      if (s.value <= 0) continue;
      const w = (s.value / max) * plotW;
      out += linked(`<rect class="${s.className}" x="${x.toFixed(1)}" y="${y + 4}" width="${Math.max(1, w).toFixed(1)}" height="${rowH - 8}"/>`, s.href, `${r.label}, ${s.name}: ${fmt(s.value)}${o.unit ?? ''}`);
      x += w;
    }
    out += `<text class="bar-value" x="${(x + 6).toFixed(1)}" y="${y + 17}">${esc(r.note ?? `${fmt(total(r))}${o.unit ?? ''}`)}</text>`;
  });
  return `${out}</svg>`;
}
