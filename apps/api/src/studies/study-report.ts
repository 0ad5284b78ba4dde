/**
 * A study's report: a row per run (its experiment, the swept values, each metric), the data as CSV, each
 * chart drawn by Vega-Lite into SVG on the server (no browser) and rasterised to PNG by resvg (a Rust SVG
 * renderer, prebuilt in the npm package), and an HTML page that holds them all, so the file alone is the
 * report. Every axis title carries its unit; every point links to its run.
 */
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import type { StudySpec } from '@iommu-lab/wire';
import { shownValue } from './study-values';
import type { RunOutcome } from './run-outcome';

export interface StudyRow {
  experiment: string;
  run: string;
  outcome: RunOutcome;
  /** Why it did not finish (the livelock's figures, the refusal), null when it did. */
  reason: string | null;
  /** The swept values, by parameter path. */
  values: Record<string, unknown>;
  /** Each metric of the study, by pointer; null when the run did not finish or has no such figure. */
  metrics: Record<string, number | null>;
}

const titled = (label: string, unit: string) => (unit ? `${label} (${unit})` : label);

function csvCell(value: unknown): string {
  const text =
    value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function studyCsv(spec: StudySpec, rows: StudyRow[]): string {
  const header = [
    'experiment',
    ...spec.parameters.map((parameter) => titled(parameter.label, parameter.unit)),
    ...spec.metrics.map((metric) => titled(metric.label, metric.unit)),
    'outcome',
    'reason',
    'run',
  ];
  const lines = rows.map((row) =>
    [
      row.experiment,
      ...spec.parameters.map((parameter) => row.values[parameter.path]),
      ...spec.metrics.map((metric) => row.metrics[metric.pointer]),
      row.outcome,
      row.reason,
      row.run,
    ]
      .map(csvCell)
      .join(','),
  );
  return [header.map(csvCell).join(','), ...lines].join('\n') + '\n';
}

/** Legend titles are axis-like titles with units: room for them whole. */
const LEGEND = { titleLimit: 320, labelLimit: 320 };

/** The chart as SVG: a line per series, a point per run (linked to `runUrl(run)`). */
export async function chartSvg(
  spec: StudySpec,
  index: number,
  rows: StudyRow[],
  runUrl: (run: string) => string,
): Promise<string> {
  const chart = spec.charts[index]!;
  const x = spec.parameters.find((parameter) => parameter.path === chart.x)!;
  const y = spec.metrics.find((metric) => metric.pointer === chart.y)!;
  const series =
    chart.series === 'experiment'
      ? { title: 'experiment', of: (row: StudyRow) => row.experiment }
      : chart.series
        ? (() => {
            const parameter = spec.parameters.find((p) => p.path === chart.series)!;
            return {
              title: titled(parameter.label, parameter.unit),
              of: (row: StudyRow) => {
                const value = row.values[parameter.path];
                return typeof value === 'number' ? value : JSON.stringify(value);
              },
            };
          })()
        : null;
  const held = Object.entries(chart.where ?? {});
  const shown = rows.filter((row) =>
    held.every(([path, value]) =>
      path === 'experiment'
        ? row.experiment === value
        : JSON.stringify(row.values[path]) === JSON.stringify(value),
    ),
  );
  // Values that are not numbers (kernel profiles) are categories: bars side by side, in the study's order.
  const categorical = shown.some((row) => typeof row.values[x.path] !== 'number');
  const values = shown
    .filter((row) => row.values[x.path] !== undefined && row.metrics[y.pointer] !== null)
    .map((row) => ({
      x: categorical ? String(row.values[x.path]) : (row.values[x.path] as number),
      y: row.metrics[y.pointer],
      series: series ? series.of(row) : '',
      outcome: row.outcome,
      href: runUrl(row.run),
    }));
  const color = series
    ? {
        color:
          chart.series === 'experiment'
            ? {
                field: 'series',
                type: 'nominal' as const,
                title: series.title,
                sort: spec.experiments.map((e) => e.label),
                legend: LEGEND,
              }
            : {
                field: 'series',
                type: 'ordinal' as const,
                title: series.title,
                sort: 'ascending' as const,
                legend: LEGEND,
              },
      }
    : {};
  const xTitle = titled(x.label, x.unit);
  const yEncoding = { field: 'y', type: 'quantitative' as const, title: titled(y.label, y.unit) };
  const vl = compile({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: chart.title,
    width: 560,
    height: 320,
    data: { values },
    ...(categorical
      ? {
          mark: { type: 'bar' },
          encoding: {
            x: {
              field: 'x',
              type: 'nominal',
              title: xTitle,
              sort: x.values.map((value) => String(shownValue(x, value))),
              axis: { labelAngle: 0 },
            },
            y: yEncoding,
            ...(series ? { xOffset: { field: 'series', sort: color.color!.sort } } : {}),
            ...color,
            href: { field: 'href' },
          },
        }
      : {
          encoding: {
            x: {
              field: 'x',
              type: 'quantitative',
              title: xTitle,
              scale: chart.xScale === 'log' ? { type: 'log' } : { zero: false },
            },
            y: yEncoding,
            ...color,
            href: { field: 'href' },
          },
          layer: [
            // Runs that finished, a line per series.
            { transform: [{ filter: "datum.outcome === 'done'" }], mark: { type: 'line', point: true } },
            // Runs the emulator stopped as a livelock: their counts up to the stop, as crosses off the line
            // (with their legend only when there are some).
            ...(values.some((value) => value.outcome === 'livelock')
              ? [
                  {
                    transform: [{ filter: "datum.outcome === 'livelock'" }],
                    mark: { type: 'point', shape: 'cross', size: 120, filled: true },
                    encoding: {
                      shape: {
                        field: 'outcome',
                        type: 'nominal',
                        title: 'stopped by',
                        scale: { range: ['cross'] },
                        legend: { orient: 'bottom' },
                      },
                    },
                  },
                ]
              : []),
          ],
        }),
  } as never);
  const view = new vega.View(vega.parse(vl.spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The chart as PNG at twice its size (for slides and mailing lists); text in the machine's fonts. */
export function chartPng(svg: string): Buffer {
  return new Resvg(svg, {
    fitTo: { mode: 'zoom', value: 2 },
    background: 'white',
    font: { loadSystemFonts: true },
  })
    .render()
    .asPng();
}

const escape = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * With one swept parameter, every run's outcome as a grid: experiment by value, so what a kernel profile
 * refuses reads at a glance; a refusal's cell holds its reason.
 */
function outcomeGrid(spec: StudySpec, rows: StudyRow[], runUrl: (run: string) => string): string {
  if (spec.parameters.length !== 1) return '';
  const parameter = spec.parameters[0]!;
  const shown = parameter.values.map((value) => shownValue(parameter, value));
  const cell = (row: StudyRow | undefined) =>
    row
      ? `<td class="${escape(row.outcome)}"><a href="${escape(runUrl(row.run))}">${escape(row.outcome)}</a>${row.reason ? `<br><small>${escape(row.reason)}</small>` : ''}</td>`
      : '<td>–</td>';
  return `<h2>Outcomes</h2>
<table class="grid"><thead><tr><th>experiment</th>${shown.map((value) => `<th>${escape(titled(String(value), parameter.unit))}</th>`).join('')}</tr></thead><tbody>
${spec.experiments
  .map(
    ({ label }) =>
      `<tr><th>${escape(label)}</th>${shown
        .map((value) =>
          cell(
            rows.find(
              (row) =>
                row.experiment === label &&
                JSON.stringify(row.values[parameter.path]) === JSON.stringify(value),
            ),
          ),
        )
        .join('')}</tr>`,
  )
  .join('\n')}
</tbody></table>`;
}

/** The whole report as one HTML file: the question, each chart, the data table, the CSV inside. */
export async function studyHtml(
  spec: StudySpec,
  rows: StudyRow[],
  runUrl: (run: string) => string,
  about: { status: string; engine: string; createdAt: string },
): Promise<string> {
  const charts = await Promise.all(spec.charts.map((_, i) => chartSvg(spec, i, rows, runUrl)));
  const csv = studyCsv(spec, rows);
  const head = [
    'experiment',
    ...spec.parameters.map((p) => titled(p.label, p.unit)),
    ...spec.metrics.map((m) => titled(m.label, m.unit)),
    'outcome',
    'run',
  ];
  const body = rows.map(
    (row) =>
      `<tr><td>${escape(row.experiment)}</td>${spec.parameters.map((p) => `<td>${escape(JSON.stringify(row.values[p.path]))}</td>`).join('')}${spec.metrics
        .map(
          (m) =>
            `<td class="n">${row.metrics[m.pointer] === null ? '–' : Number(row.metrics[m.pointer]!.toPrecision(6))}</td>`,
        )
        .join(
          '',
        )}<td>${escape(row.outcome)}</td><td><a href="${escape(runUrl(row.run))}">${escape(row.run)}</a></td></tr>`,
  );
  // What the emulator's rules stopped or refused is an answer too (a kernel profile's refusal, a storm).
  const unfinished = rows.filter((row) => row.reason !== null);
  const stopped = unfinished.length
    ? `<h2>Runs that did not finish</h2>
<table><thead><tr><th>experiment</th>${spec.parameters.map((p) => `<th>${escape(titled(p.label, p.unit))}</th>`).join('')}<th>outcome</th><th>reason</th></tr></thead><tbody>
${unfinished
  .map(
    (row) =>
      `<tr><td>${escape(row.experiment)}</td>${spec.parameters.map((p) => `<td>${escape(JSON.stringify(row.values[p.path]))}</td>`).join('')}<td>${escape(row.outcome)}</td><td><a href="${escape(runUrl(row.run))}">${escape(row.reason!)}</a></td></tr>`,
  )
  .join('\n')}
</tbody></table>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(spec.title)}</title>
<style>body{font:14px system-ui,sans-serif;max-width:1100px;margin:2rem auto;padding:0 1rem}figure{margin:1.5rem 0}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem}td.n{text-align:right;font-variant-numeric:tabular-nums}
p.about{color:#555}td.done{background:#eef7ee}td.refused,td.livelock{background:#fbeeee}</style></head>
<body><h1>${escape(spec.title)}</h1>
<p class="about">Study <code>${escape(spec.name)}</code> · ${rows.length} runs on the ${escape(about.engine)} engine · ${escape(about.status)} · ${escape(about.createdAt)} · values in simulated time</p>
${spec.description
  .split(/\n\n+/)
  .map((paragraph) => `<p>${escape(paragraph)}</p>`)
  .join('\n')}
${charts.map((svg, i) => `<figure data-chart="${i}">${svg}<figcaption>${escape(spec.charts[i]!.title)}</figcaption></figure>`).join('\n')}
${outcomeGrid(spec, rows, runUrl)}
${stopped}
<h2>Data</h2>
<p><a download="${escape(spec.name)}.csv" href="data:text/csv;charset=utf-8,${encodeURIComponent(csv)}">The data as CSV</a></p>
<table><thead><tr>${head.map((h) => `<th>${escape(h)}</th>`).join('')}</tr></thead><tbody>
${body.join('\n')}
</tbody></table></body></html>
`;
}
