/** Reading a study's values: a pointer into a config or a run's metrics, a swept value as shown, a metric's figure. */
import type { StudySpec } from '@iommu-lab/wire';
import { pointerKeys } from '../runs/sweep';

/**
 * The value at an RFC 6901 pointer, or undefined; a `*` key (a value swept into every element, sweep.ts)
 * reads the first element, which holds the same value as the others.
 */
export function valueAt(document: unknown, pointer: string): unknown {
  let node = document;
  for (const key of pointerKeys(pointer)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key === '*' ? (Object.keys(node)[0] ?? '') : key];
  }
  return node;
}

/** Twelve significant digits: what a division or a scale leaves past them is float noise, not data. */
const clean = (value: number) => Number(value.toPrecision(12));

/** A swept value as the report shows it (scaled to its unit); values that are not numbers as they are. */
export function shownValue(parameter: StudySpec['parameters'][number], value: unknown): unknown {
  return typeof value === 'number' && parameter.scale !== undefined ? clean(value * parameter.scale) : value;
}

/**
 * A summary of no samples (a latency histogram of a run stopped before any DMA ended) has no mean or
 * percentile: its zeros are not figures.
 */
function noSamples(metrics: unknown, pointer: string): boolean {
  const parent = valueAt(metrics, pointer.slice(0, pointer.lastIndexOf('/')));
  return (
    parent !== null &&
    typeof parent === 'object' &&
    (parent as { count?: unknown }).count === 0 &&
    !pointer.endsWith('/count')
  );
}

/** A metric's figure from a run's metrics: a value, a ratio, scaled; null when not a number. */
export function figureOf(metric: StudySpec['metrics'][number], metrics: unknown): number | null {
  const value = valueAt(metrics, metric.pointer) ?? metric.absent;
  if (typeof value !== 'number' || noSamples(metrics, metric.pointer)) return null;
  let figure = value;
  for (const pointer of metric.multiplyBy ?? []) {
    const factor = valueAt(metrics, pointer);
    if (typeof factor !== 'number' || noSamples(metrics, pointer)) return null;
    figure *= factor;
  }
  if (metric.divideBy) {
    const parts = metric.divideBy.map((pointer) => valueAt(metrics, pointer));
    if (parts.some((part) => typeof part !== 'number')) return null;
    const whole = (parts as number[]).reduce((sum, part) => sum + part, 0);
    if (whole === 0) return null;
    figure /= whole;
  }
  return clean(figure * (metric.scale ?? 1));
}

/**
 * What a metric pointer under /run/ reads: the run itself, e.g. throughput as /system/bytes divided by
 * /run/simulatedNs (bytes per simulated ns, which is GB/s).
 */
export function runFigures(run: {
  simulatedNs: number;
  transactions: number;
  totalTransactions: number;
  faultRecords: number;
}) {
  const { simulatedNs, transactions, totalTransactions, faultRecords } = run;
  return { simulatedNs, transactions, totalTransactions, faultRecords };
}
