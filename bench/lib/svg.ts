// Two small hand-made SVG charts (no chart library): a histogram of latencies and a line chart of
// burst completion over time. Plain SVG 1.1 that browsers and GitHub render.

const FONT = 'font-family="sans-serif" font-size="12"';
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(n < 10 ? 1 : 0);
}

/** A step for axis ticks: 1, 2 or 5 times a power of ten, giving about `count` ticks. */
function niceStep(range: number, count: number): number {
  const raw = range / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw || 1));
  for (const m of [1, 2, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

export interface Marker {
  x: number;
  label: string;
  color?: string;
}

export interface HistogramPanel {
  title: string;
  /** Values in the x unit (seconds). */
  values: number[];
  markers?: Marker[];
}

/** One histogram per panel, stacked, sharing the x axis (seconds). */
export function histogramSvg(title: string, panels: HistogramPanel[], xLabel = "seconds"): string {
  const width = 720;
  const panelHeight = 200;
  const left = 50;
  const right = 20;
  const top = 56;
  const gap = 50;
  const height = top + panels.length * (panelHeight + gap) + 10;
  const all = panels.flatMap((p) => [...p.values, ...(p.markers ?? []).map((m) => m.x)]);
  const xMax = Math.max(1, ...all) * 1.05;
  const binWidth = niceStep(xMax, 30);
  const bins = Math.ceil(xMax / binWidth);
  const plotWidth = width - left - right;
  const x = (v: number) => left + (v / (bins * binWidth)) * plotWidth;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT}>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="15">${esc(title)}</text>`,
  ];
  panels.forEach((panel, index) => {
    const y0 = top + index * (panelHeight + gap);
    const counts = new Array<number>(bins).fill(0);
    for (const v of panel.values) counts[Math.min(bins - 1, Math.max(0, Math.floor(v / binWidth)))]! += 1;
    const yMax = Math.max(1, ...counts);
    const yStep = niceStep(yMax, 4);
    const y = (c: number) => y0 + panelHeight - (c / (Math.ceil(yMax / yStep) * yStep)) * panelHeight;
    const color = COLORS[index % COLORS.length]!;
    out.push(`<text x="${left}" y="${y0 - 8}">${esc(panel.title)} (n = ${panel.values.length})</text>`);
    for (let c = 0; c <= Math.ceil(yMax / yStep) * yStep; c += yStep) {
      out.push(
        `<line x1="${left}" x2="${width - right}" y1="${y(c)}" y2="${y(c)}" stroke="#eee"/>`,
        `<text x="${left - 6}" y="${y(c) + 4}" text-anchor="end">${c}</text>`,
      );
    }
    counts.forEach((c, i) => {
      if (c === 0) return;
      const bx = x(i * binWidth);
      out.push(
        `<rect x="${bx + 0.5}" y="${y(c)}" width="${Math.max(1, x(binWidth) - left - 1)}" height="${y0 + panelHeight - y(c)}" fill="${color}"/>`,
      );
    });
    const xStep = niceStep(bins * binWidth, 10);
    for (let v = 0; v <= bins * binWidth + 1e-9; v += xStep) {
      out.push(`<text x="${x(v)}" y="${y0 + panelHeight + 15}" text-anchor="middle">${fmt(v)}</text>`);
    }
    out.push(
      `<line x1="${left}" x2="${width - right}" y1="${y0 + panelHeight}" y2="${y0 + panelHeight}" stroke="black"/>`,
    );
    (panel.markers ?? []).forEach((m, i) => {
      const mx = x(m.x);
      const mc = m.color ?? "#444";
      out.push(
        `<line x1="${mx}" x2="${mx}" y1="${y0}" y2="${y0 + panelHeight}" stroke="${mc}" stroke-dasharray="4 3"/>`,
        `<text x="${mx + 3}" y="${y0 + 12 + i * 13}" fill="${mc}">${esc(m.label)}</text>`,
      );
    });
  });
  out.push(`<text x="${width / 2}" y="${height - 4}" text-anchor="middle">${esc(xLabel)}</text>`, "</svg>");
  return out.join("\n");
}

export interface LineSeries {
  label: string;
  /** [x, y] points, x ascending. */
  points: Array<[number, number]>;
}

export interface LinePanel {
  title: string;
  series: LineSeries[];
  /** Horizontal line, e.g. the number of incidents in the burst. */
  yTarget?: number;
  markers?: Marker[];
}

/** Step lines (a count that jumps when a message arrives), one panel per burst size. */
export function lineChartSvg(title: string, panels: LinePanel[], xLabel: string, yLabel: string): string {
  const width = 720;
  const panelHeight = 240;
  const left = 60;
  const right = 150;
  const top = 56;
  const gap = 55;
  const height = top + panels.length * (panelHeight + gap) + 10;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT}>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2 - right / 2}" y="20" text-anchor="middle" font-size="15">${esc(title)}</text>`,
  ];
  panels.forEach((panel, index) => {
    const y0 = top + index * (panelHeight + gap);
    const xs = panel.series.flatMap((s) => s.points.map((p) => p[0]));
    const ys = panel.series.flatMap((s) => s.points.map((p) => p[1]));
    const xMaxRaw = Math.max(1, ...xs, ...(panel.markers ?? []).map((m) => m.x)) * 1.05;
    const xStep = niceStep(xMaxRaw, 10);
    const xMax = Math.ceil(xMaxRaw / xStep) * xStep;
    const yMaxRaw = Math.max(1, ...ys, panel.yTarget ?? 0);
    const yStep = niceStep(yMaxRaw, 5);
    const yMax = Math.ceil(yMaxRaw / yStep) * yStep;
    const plotWidth = width - left - right;
    const x = (v: number) => left + (v / xMax) * plotWidth;
    const y = (v: number) => y0 + panelHeight - (v / yMax) * panelHeight;
    out.push(`<text x="${left}" y="${y0 - 8}">${esc(panel.title)}</text>`);
    for (let v = 0; v <= yMax + 1e-9; v += yStep) {
      out.push(
        `<line x1="${left}" x2="${left + plotWidth}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`,
        `<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${fmt(v)}</text>`,
      );
    }
    for (let v = 0; v <= xMax + 1e-9; v += xStep) {
      out.push(`<text x="${x(v)}" y="${y0 + panelHeight + 15}" text-anchor="middle">${fmt(v)}</text>`);
    }
    out.push(
      `<line x1="${left}" x2="${left + plotWidth}" y1="${y(0)}" y2="${y(0)}" stroke="black"/>`,
      `<line x1="${left}" x2="${left}" y1="${y0}" y2="${y(0)}" stroke="black"/>`,
      `<text x="${left - 45}" y="${y0 + panelHeight / 2}" transform="rotate(-90 ${left - 45} ${y0 + panelHeight / 2})" text-anchor="middle">${esc(yLabel)}</text>`,
    );
    if (panel.yTarget !== undefined) {
      out.push(
        `<line x1="${left}" x2="${left + plotWidth}" y1="${y(panel.yTarget)}" y2="${y(panel.yTarget)}" stroke="#999" stroke-dasharray="2 2"/>`,
      );
    }
    (panel.markers ?? []).forEach((m, i) => {
      const mc = m.color ?? "#444";
      out.push(
        `<line x1="${x(m.x)}" x2="${x(m.x)}" y1="${y0}" y2="${y(0)}" stroke="${mc}" stroke-dasharray="4 3"/>`,
        `<text x="${x(m.x) + 3}" y="${y0 + panelHeight - 8 - i * 13}" fill="${mc}">${esc(m.label)}</text>`,
      );
    });
    panel.series.forEach((series, i) => {
      const color = COLORS[i % COLORS.length]!;
      let d = `M${x(0).toFixed(1)},${y(0).toFixed(1)}`;
      let lastY = 0;
      for (const [px, py] of series.points) {
        d += ` L${x(px).toFixed(1)},${y(lastY).toFixed(1)} L${x(px).toFixed(1)},${y(py).toFixed(1)}`;
        lastY = py;
      }
      out.push(
        `<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`,
        `<line x1="${left + plotWidth + 10}" x2="${left + plotWidth + 30}" y1="${y0 + 12 + i * 18}" y2="${y0 + 12 + i * 18}" stroke="${color}" stroke-width="2"/>`,
        `<text x="${left + plotWidth + 35}" y="${y0 + 16 + i * 18}">${esc(series.label)}</text>`,
      );
    });
  });
  out.push(
    `<text x="${width / 2 - right / 2}" y="${height - 4}" text-anchor="middle">${esc(xLabel)}</text>`,
    "</svg>",
  );
  return out.join("\n");
}
