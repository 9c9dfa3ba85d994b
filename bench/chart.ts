/**
 * Grouped bar charts as hand-written SVG: one panel per chart, stacked vertically, in a
 * single file. Small enough that the benchmarks need no charting dependency.
 */

export interface BarSeries {
  name: string;
  /** One value per group; NaN draws no bar (a case that did not run). */
  values: number[];
}

export interface BarChart {
  title: string;
  /** Unit of the y axis, e.g. "ops/s" or "ms". */
  yLabel: string;
  groups: string[];
  series: BarSeries[];
}

const PANEL_WIDTH = 760;
const PANEL_HEIGHT = 340;
const MARGIN = { top: 44, right: 170, bottom: 44, left: 72 };
const COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f"];
const TICK_COUNT = 5;

/** Every chart in one SVG document, one panel under the other. */
export function chartsSvg(charts: readonly BarChart[]): string {
  const height = PANEL_HEIGHT * charts.length;
  const panels = charts.map((chart, index) => `<g transform="translate(0,${index * PANEL_HEIGHT})">${panelSvg(chart)}</g>`);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${PANEL_WIDTH}" height="${height}" viewBox="0 0 ${PANEL_WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${PANEL_WIDTH}" height="${height}" fill="#ffffff"/>`,
    ...panels,
    "</svg>",
    "",
  ].join("\n");
}

function panelSvg(chart: BarChart): string {
  for (const series of chart.series) {
    if (series.values.length !== chart.groups.length) {
      throw new RangeError(`series ${series.name} has ${series.values.length} values for ${chart.groups.length} groups`);
    }
  }
  const plotWidth = PANEL_WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const finite = chart.series.flatMap((series) => series.values).filter(Number.isFinite);
  const axisMax = niceCeiling(Math.max(1e-9, ...finite));
  const y = (value: number) => Math.round((MARGIN.top + plotHeight - (value / axisMax) * plotHeight) * 10) / 10;
  const parts: string[] = [
    `<text x="${PANEL_WIDTH / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(chart.title)}</text>`,
    `<text transform="translate(16,${MARGIN.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">${escapeXml(chart.yLabel)}</text>`,
  ];
  for (let tick = 0; tick <= TICK_COUNT; tick++) {
    const value = (axisMax * tick) / TICK_COUNT;
    parts.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${y(value)}" y2="${y(value)}" stroke="#dddddd"/>`,
      `<text x="${MARGIN.left - 6}" y="${y(value) + 4}" text-anchor="end">${formatNumber(value)}</text>`,
    );
  }
  const groupWidth = plotWidth / chart.groups.length;
  const barWidth = (groupWidth * 0.8) / chart.series.length;
  chart.groups.forEach((group, groupIndex) => {
    const groupLeft = MARGIN.left + groupIndex * groupWidth + groupWidth * 0.1;
    chart.series.forEach((series, seriesIndex) => {
      const value = series.values[groupIndex];
      if (!Number.isFinite(value)) return;
      const x = groupLeft + seriesIndex * barWidth;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y(value).toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(MARGIN.top + plotHeight - y(value)).toFixed(1)}" fill="${COLORS[seriesIndex % COLORS.length]}"><title>${escapeXml(`${series.name}, ${group}: ${formatNumber(value)}`)}</title></rect>`,
        `<text x="${(x + barWidth / 2 - 1).toFixed(1)}" y="${(y(value) - 4).toFixed(1)}" text-anchor="middle" font-size="10">${formatNumber(value)}</text>`,
      );
    });
    parts.push(`<text x="${MARGIN.left + (groupIndex + 0.5) * groupWidth}" y="${MARGIN.top + plotHeight + 20}" text-anchor="middle">${escapeXml(group)}</text>`);
  });
  parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${MARGIN.top + plotHeight}" stroke="#333333"/>`);
  parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${MARGIN.top + plotHeight}" y2="${MARGIN.top + plotHeight}" stroke="#333333"/>`);
  chart.series.forEach((series, seriesIndex) => {
    const legendY = MARGIN.top + 8 + seriesIndex * 20;
    const legendX = PANEL_WIDTH - MARGIN.right + 16;
    parts.push(
      `<rect x="${legendX}" y="${legendY - 10}" width="12" height="12" fill="${COLORS[seriesIndex % COLORS.length]}"/>`,
      `<text x="${legendX + 18}" y="${legendY}">${escapeXml(series.name)}</text>`,
    );
  });
  return parts.join("\n");
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
