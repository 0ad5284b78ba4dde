/**
 * How a comparison reads: values in their unit with thousands separators (latencies in ns, µs or ms by
 * size), signed deltas, and metric groups (system, then each IOMMU, then each device).
 */
import type { CompareResult, FigureUnit } from '@iommu-lab/client';

const grouped = (value: number, digits: number) =>
  value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });

/** Simulated time with its unit: 950 ns, 12.4 µs, 1,234.5 ms. */
export function formatTime(ns: number): string {
  const size = Math.abs(ns);
  if (size < 1e3) return `${grouped(ns, 0)} ns`;
  if (size < 1e6) return `${grouped(ns / 1e3, 2)} µs`;
  return `${grouped(ns / 1e6, 2)} ms`;
}

/** A figure's value with its unit; null is a dash. */
export function formatFigure(value: number | null, unit: FigureUnit): string {
  if (value === null) return '—';
  switch (unit) {
    case 'ns':
      return formatTime(value);
    case '%':
      return `${grouped(value, 2)} %`;
    case 'count':
      return grouped(value, 2);
    default:
      return `${grouped(value, 2)} ${unit}`;
  }
}

/** A delta with its sign and unit; the ratio to the first run beside it. */
export function formatDelta(delta: number | null, ratio: number | null, unit: FigureUnit): string {
  if (delta === null) return '';
  const sign = delta > 0 ? '+' : delta < 0 ? '−' : '±';
  const size = formatFigure(Math.abs(delta), unit);
  return ratio === null || unit === '%' ? `${sign}${size}` : `${sign}${size} (×${ratio.toFixed(3)})`;
}

export interface MetricSection {
  id: string;
  title: string;
  metrics: CompareResult['metrics'];
}

/** Metrics by where they were counted: the system first, then each IOMMU, then each device. */
export function metricSections(metrics: CompareResult['metrics']): MetricSection[] {
  const order = { system: 0, iommu: 1, device: 2 } as const;
  const sections = new Map<string, MetricSection & { rank: number }>();
  for (const metric of metrics) {
    const id = metric.scope === null ? metric.group : `${metric.group}-${metric.scope}`;
    let section = sections.get(id);
    if (!section) {
      const title =
        metric.group === 'system'
          ? 'System'
          : `${metric.group === 'iommu' ? 'IOMMU' : 'Device'} ${metric.scope}`;
      section = { id, title, metrics: [], rank: order[metric.group] };
      sections.set(id, section);
    }
    section.metrics.push(metric);
  }
  return [...sections.values()]
    .sort((a, b) => a.rank - b.rank || a.title.localeCompare(b.title))
    .map(({ id, title, metrics }) => ({ id, title, metrics }));
}

/** A metric's path read as words inside its section: "/devices/nic0/faults/latencyNs/p99" → "faults › latencyNs › p99". */
export function metricName(path: string): string {
  const parts = path.split('/').slice(1);
  const inScope = ['devices', 'iommus', 'queues'].includes(parts[0] ?? '')
    ? parts.slice(parts[0] === 'queues' ? 1 : 2)
    : parts;
  return inScope.join(' › ');
}
