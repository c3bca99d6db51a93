// Static line charts for reports: vega-lite spec → vega view (headless) → SVG → PNG (resvg).
//
// Without a canvas package vega estimates text widths generously (≈ 0.8 em per character),
// so keep titles under ~50 characters and legend labels under ~30: longer ones get an ellipsis.
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { FONT_FAMILY, fontFiles } from './fonts.ts';

export interface LineSeries {
  /** Legend label; series with the same name share one colour and one legend entry. */
  name: string;
  x: number[];
  y: number[];
  /** Draw dashed (e.g. a reference line such as "overall accuracy"); ignored when styles are used. */
  dashed?: boolean;
  /** CSS colour; default: the next colour of the palette. */
  color?: string;
  /**
   * Line style group with its own legend (e.g. "relevant classes" / "all classes"): the first
   * style seen is solid, the next dashed, then dotted. Use it on all series or on none.
   */
  style?: string;
  /**
   * Draw markers only, no line, and name them in a marker legend with this label (e.g.
   * "thesis (nn_vis)"); give the series the name of a line to share its colour.
   */
  points?: string;
}

export interface LineChartOptions {
  title: string;
  /** Optional smaller lines under the title, e.g. the files compared. */
  subtitle?: string | string[];
  xTitle: string;
  yTitle: string;
  series: LineSeries[];
  yDomain?: [number, number];
  xDomain?: [number, number];
  legendTitle?: string;
  /** Title of the line-style legend (with `style`). */
  styleTitle?: string;
  width?: number;
  height?: number;
}

export interface Chart {
  svg: string;
  png: Uint8Array;
}

const FONT = FONT_FAMILY;
/** Vega's tableau10. */
export const PALETTE = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'];
const DASHES = [
  [1, 0],
  [6, 4],
  [2, 3],
  [10, 3, 2, 3],
];

/** The vega-lite spec of a line chart (exported for inspection and tests). */
export function lineChartSpec(opts: LineChartOptions): TopLevelSpec {
  const names = [...new Set(opts.series.map((s) => s.name))];
  const colors = names.map((n, i) => opts.series.find((s) => s.name === n)?.color ?? PALETTE[i % PALETTE.length]);
  const styled = opts.series.some((s) => s.style !== undefined);
  const styles = styled ? [...new Set(opts.series.map((s) => s.style ?? ''))] : [];
  const values = opts.series.flatMap((s) =>
    s.x.flatMap((x, i) =>
      Number.isFinite(x) && Number.isFinite(s.y[i]) ? [{ series: s.name, style: s.style ?? '', x, y: s.y[i], ...(s.points !== undefined ? { marker: s.points } : {}) }] : [],
    ),
  );
  const markers = [...new Set(opts.series.flatMap((s) => (s.points !== undefined ? [s.points] : [])))];
  const width = opts.width ?? 640;
  const padding = 12;
  // Short labels sit to the right of the plot; long ones below it, so the plot keeps its width.
  const longest = Math.max(0, ...names.map((n) => n.length), ...styles.map((n) => n.length));
  const below = longest > 28;
  const legendBase = {
    labelLimit: below ? width / 2 - 40 : 300,
    symbolType: 'stroke',
    symbolStrokeWidth: 2.5,
    symbolSize: 500,
    ...(below ? { orient: 'bottom' as const, direction: 'vertical' as const, columns: names.length > 3 ? 2 : 1, columnPadding: 24 } : { orient: 'right' as const }),
  };
  const legend = { ...legendBase, title: opts.legendTitle ?? null };
  const limit = width - 2 * padding;
  const strokeDash = styled
    ? {
        field: 'style',
        type: 'nominal' as const,
        scale: { domain: styles, range: styles.map((_, i) => DASHES[i % DASHES.length]) },
        legend: { ...legendBase, title: opts.styleTitle ?? null, encode: { symbols: { update: { stroke: { value: '#333' } } } } },
      }
    : {
        // Same field and domain as colour: vega-lite merges both into one legend.
        field: 'series',
        type: 'nominal' as const,
        scale: { domain: names, range: names.map((n) => (opts.series.find((s) => s.name === n)?.dashed ? [6, 4] : [1, 0])) },
        legend,
      };
  const x = {
    field: 'x',
    type: 'quantitative' as const,
    title: opts.xTitle,
    scale: opts.xDomain ? { domain: opts.xDomain, nice: false } : { zero: false },
  };
  const y = {
    field: 'y',
    type: 'quantitative' as const,
    title: opts.yTitle,
    scale: opts.yDomain ? { domain: opts.yDomain, nice: false } : { zero: false },
  };
  const color = { field: 'series', type: 'nominal' as const, scale: { domain: names, range: colors }, legend };
  const lineMark = { type: 'line' as const, point: { size: 22, filled: true }, strokeWidth: 2 };
  const plot = markers.length
    ? {
        layer: [
          { transform: [{ filter: 'datum.marker == null' }], mark: lineMark, encoding: { x, y, color, strokeDash } },
          {
            transform: [{ filter: 'datum.marker != null' }],
            mark: { type: 'point' as const, filled: true, size: 150, opacity: 1, stroke: '#222', strokeWidth: 1 },
            encoding: {
              x,
              y,
              color,
              shape: {
                field: 'marker',
                type: 'nominal' as const,
                scale: { domain: markers, range: ['diamond', 'square', 'triangle-up', 'cross'].slice(0, markers.length) },
                legend: { ...legendBase, symbolType: undefined, symbolStrokeWidth: 1, symbolSize: 120, symbolFillColor: '#666', title: null },
              },
            },
          },
        ],
      }
    : { mark: lineMark, encoding: { x, y, color, strokeDash } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width,
    height: opts.height ?? 400,
    autosize: { type: 'fit', contains: 'padding' },
    padding,
    background: 'white',
    title: opts.subtitle ? { text: opts.title, subtitle: opts.subtitle, limit } : { text: opts.title, limit },
    data: { values },
    ...plot,
    config: {
      font: FONT,
      title: { fontSize: 15, subtitleFontSize: 11, subtitleColor: '#555', anchor: 'start' },
      axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: '#e6e6e6' },
      legend: { labelFontSize: 11, titleFontSize: 11 },
      view: { stroke: '#bbb' },
    },
  };
}

/** Renders a line chart to SVG and a 2× PNG. Readable on its own: title, axis titles, legend. */
export async function lineChart(opts: LineChartOptions): Promise<Chart> {
  const view = new vega.View(vega.parse(compile(lineChartSpec(opts)).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    const png = new Resvg(svg, {
      fitTo: { mode: 'zoom', value: 2 },
      background: 'white',
      font: { loadSystemFonts: false, fontFiles: fontFiles(), defaultFontFamily: FONT, sansSerifFamily: FONT },
    })
      .render()
      .asPng();
    return { svg, png: new Uint8Array(png.buffer, png.byteOffset, png.byteLength) };
  } finally {
    view.finalize();
  }
}
