/**
 * Charts as hand-written SVG: grouped bars, stacked bars and lines, one panel per chart,
 * stacked vertically in a single file. Small enough that the benchmarks need no charting
 * dependency.
 */

export interface BarSeries {
  name: string;
  /** One value per group (per x for a line); NaN draws nothing (a case that did not run). */
  values: number[];
}

/** Bars side by side: one bar per series in each group. */
export interface BarChart {
  kind?: "bar";
  title: string;
  /** Unit of the y axis, e.g. "ops/s" or "ms". */
  yLabel: string;
  groups: string[];
  series: BarSeries[];
}

/** One bar per group, made of the series stacked bottom to top (e.g. fractions of time). */
export interface StackedBarChart {
  kind: "stacked";
  title: string;
  yLabel: string;
  groups: string[];
  series: BarSeries[];
  /** A fixed top of the y axis (1 for fractions); otherwise it fits the tallest stack. */
  yMax?: number;
}

/** One line per series over evenly spaced x labels; `reference` is drawn dashed (e.g. ideal speedup). */
export interface LineChart {
  kind: "line";
  title: string;
  yLabel: string;
  xLabel: string;
  groups: string[];
  series: BarSeries[];
  reference?: BarSeries;
}

export type Chart = BarChart | StackedBarChart | LineChart;

const PANEL_WIDTH = 760;
const PANEL_HEIGHT = 340;
const MARGIN = { top: 44, right: 170, bottom: 44, left: 72 };
const PLOT_WIDTH = PANEL_WIDTH - MARGIN.left - MARGIN.right;
const PLOT_HEIGHT = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
const COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f"];
const TICK_COUNT = 5;
/** About the width of one character at font-size 12, to tell when group labels collide. */
const LABEL_CHAR_WIDTH = 7;

/** Every chart in one SVG document, one panel under the other. */
export function chartsSvg(charts: readonly Chart[]): string {
  const height = PANEL_HEIGHT * charts.length;
  const panels = charts.map(
    (chart, index) => `<g transform="translate(0,${index * PANEL_HEIGHT})">${panelSvg(chart)}</g>`,
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${PANEL_WIDTH}" height="${height}" viewBox="0 0 ${PANEL_WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${PANEL_WIDTH}" height="${height}" fill="#ffffff"/>`,
    ...panels,
    "</svg>",
    "",
  ].join("\n");
}

function panelSvg(chart: Chart): string {
  for (const series of chart.series) {
    if (series.values.length !== chart.groups.length) {
      throw new RangeError(
        `series ${series.name} has ${series.values.length} values for ${chart.groups.length} groups`,
      );
    }
  }
  const axisMax =
    chart.kind === "stacked" && chart.yMax !== undefined
      ? chart.yMax
      : niceCeiling(Math.max(1e-9, ...axisValues(chart)));
  const y = (value: number) => Math.round((MARGIN.top + PLOT_HEIGHT - (value / axisMax) * PLOT_HEIGHT) * 10) / 10;
  const parts = [...frameSvg(chart, axisMax, y)];
  if (chart.kind === "stacked") parts.push(...stackedBarsSvg(chart, y));
  else if (chart.kind === "line") parts.push(...linesSvg(chart, y));
  else parts.push(...groupedBarsSvg(chart, y));
  const legend =
    chart.kind === "line" && chart.reference !== undefined ? [...chart.series, chart.reference] : chart.series;
  legend.forEach((series, seriesIndex) => {
    const legendY = MARGIN.top + 8 + seriesIndex * 20;
    const legendX = PANEL_WIDTH - MARGIN.right + 16;
    const color = seriesIndex < chart.series.length ? colorOf(seriesIndex) : "#777777";
    parts.push(
      `<rect x="${legendX}" y="${legendY - 10}" width="12" height="12" fill="${color}"/>`,
      `<text x="${legendX + 18}" y="${legendY}">${escapeXml(series.name)}</text>`,
    );
  });
  return parts.join("\n");
}

/** The values the y axis must reach: bar tops, stack totals, line points. */
function axisValues(chart: Chart): number[] {
  if (chart.kind === "stacked") {
    return chart.groups.map((_, group) =>
      chart.series.reduce((sum, series) => sum + finiteOrZero(series.values[group]), 0),
    );
  }
  const series =
    chart.kind === "line" && chart.reference !== undefined ? [...chart.series, chart.reference] : chart.series;
  return series.flatMap((one) => one.values).filter(Number.isFinite);
}

function frameSvg(chart: Chart, axisMax: number, y: (value: number) => number): string[] {
  const parts: string[] = [
    `<text x="${PANEL_WIDTH / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(chart.title)}</text>`,
    `<text transform="translate(16,${MARGIN.top + PLOT_HEIGHT / 2}) rotate(-90)" text-anchor="middle">${escapeXml(chart.yLabel)}</text>`,
  ];
  for (let tick = 0; tick <= TICK_COUNT; tick++) {
    const value = (axisMax * tick) / TICK_COUNT;
    parts.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + PLOT_WIDTH}" y1="${y(value)}" y2="${y(value)}" stroke="#dddddd"/>`,
      `<text x="${MARGIN.left - 6}" y="${y(value) + 4}" text-anchor="end">${formatNumber(value)}</text>`,
    );
  }
  const groupWidth = PLOT_WIDTH / chart.groups.length;
  // Labels wider than their group alternate between two rows so neighbours do not overlap.
  const staggered = chart.groups.some((group) => group.length * LABEL_CHAR_WIDTH > groupWidth);
  chart.groups.forEach((group, groupIndex) => {
    const labelY = MARGIN.top + PLOT_HEIGHT + (staggered && groupIndex % 2 === 1 ? 32 : 18);
    parts.push(
      `<text x="${MARGIN.left + (groupIndex + 0.5) * groupWidth}" y="${labelY}" text-anchor="middle">${escapeXml(group)}</text>`,
    );
  });
  if (chart.kind === "line") {
    parts.push(
      `<text x="${MARGIN.left + PLOT_WIDTH / 2}" y="${PANEL_HEIGHT - 6}" text-anchor="middle">${escapeXml(chart.xLabel)}</text>`,
    );
  }
  parts.push(
    `<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${MARGIN.top + PLOT_HEIGHT}" stroke="#333333"/>`,
  );
  parts.push(
    `<line x1="${MARGIN.left}" x2="${MARGIN.left + PLOT_WIDTH}" y1="${MARGIN.top + PLOT_HEIGHT}" y2="${MARGIN.top + PLOT_HEIGHT}" stroke="#333333"/>`,
  );
  return parts;
}

function groupedBarsSvg(chart: BarChart, y: (value: number) => number): string[] {
  const parts: string[] = [];
  const groupWidth = PLOT_WIDTH / chart.groups.length;
  const barWidth = (groupWidth * 0.8) / chart.series.length;
  chart.groups.forEach((group, groupIndex) => {
    const groupLeft = MARGIN.left + groupIndex * groupWidth + groupWidth * 0.1;
    chart.series.forEach((series, seriesIndex) => {
      const value = series.values[groupIndex];
      if (!Number.isFinite(value)) return;
      const x = groupLeft + seriesIndex * barWidth;
      parts.push(
        rectSvg(
          x,
          y(value),
          barWidth - 2,
          MARGIN.top + PLOT_HEIGHT - y(value),
          colorOf(seriesIndex),
          `${series.name}, ${group}: ${formatNumber(value)}`,
        ),
        `<text x="${(x + barWidth / 2 - 1).toFixed(1)}" y="${(y(value) - 4).toFixed(1)}" text-anchor="middle" font-size="10">${formatNumber(value)}</text>`,
      );
    });
  });
  return parts;
}

function stackedBarsSvg(chart: StackedBarChart, y: (value: number) => number): string[] {
  const parts: string[] = [];
  const groupWidth = PLOT_WIDTH / chart.groups.length;
  const barWidth = groupWidth * 0.6;
  chart.groups.forEach((group, groupIndex) => {
    const x = MARGIN.left + groupIndex * groupWidth + groupWidth * 0.2;
    let base = 0;
    chart.series.forEach((series, seriesIndex) => {
      const value = series.values[groupIndex];
      if (!Number.isFinite(value) || value <= 0) return;
      const top = y(base + value);
      parts.push(
        rectSvg(
          x,
          top,
          barWidth,
          y(base) - top,
          colorOf(seriesIndex),
          `${series.name}, ${group}: ${formatNumber(value)}`,
        ),
      );
      base += value;
    });
  });
  return parts;
}

function linesSvg(chart: LineChart, y: (value: number) => number): string[] {
  const parts: string[] = [];
  const groupWidth = PLOT_WIDTH / chart.groups.length;
  const x = (groupIndex: number) => (MARGIN.left + (groupIndex + 0.5) * groupWidth).toFixed(1);
  const line = (series: BarSeries, color: string, dashed: boolean) => {
    const points = series.values.flatMap((value, groupIndex) =>
      Number.isFinite(value) ? [`${x(groupIndex)},${y(value)}`] : [],
    );
    if (points.length > 1) {
      parts.push(
        `<polyline points="${points.join(" ")}" fill="none" stroke="${color}" stroke-width="2"${dashed ? ' stroke-dasharray="5,4"' : ""}/>`,
      );
    }
    series.values.forEach((value, groupIndex) => {
      if (!Number.isFinite(value) || dashed) return;
      parts.push(
        `<circle cx="${x(groupIndex)}" cy="${y(value)}" r="3.5" fill="${color}"><title>${escapeXml(`${series.name}, ${chart.groups[groupIndex]}: ${formatNumber(value)}`)}</title></circle>`,
      );
    });
  };
  if (chart.reference !== undefined) line(chart.reference, "#777777", true);
  chart.series.forEach((series, seriesIndex) => line(series, colorOf(seriesIndex), false));
  return parts;
}

function rectSvg(x: number, top: number, width: number, height: number, color: string, title: string): string {
  return `<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${width.toFixed(1)}" height="${height.toFixed(1)}" fill="${color}"><title>${escapeXml(title)}</title></rect>`;
}

function colorOf(seriesIndex: number): string {
  return COLORS[seriesIndex % COLORS.length];
}

function finiteOrZero(value: number): number {
  return Number.isFinite(value) ? value : 0;
}

/** The smallest 1, 2, 2.5 or 5 times a power of ten at or above `value`. */
function niceCeiling(value: number): number {
  const power = Math.pow(10, Math.floor(Math.log10(value)));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/** 1234567 -> "1.23M"; small values keep their decimals (latencies in ms). */
export function formatNumber(value: number): string {
  const magnitude = Math.abs(value);
  if (magnitude >= 1e9) return `${trim(value / 1e9)}G`;
  if (magnitude >= 1e6) return `${trim(value / 1e6)}M`;
  if (magnitude >= 1e4) return `${trim(value / 1e3)}k`;
  return trim(value);
}

function trim(value: number): string {
  return String(Number(value.toPrecision(3)));
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!);
}
