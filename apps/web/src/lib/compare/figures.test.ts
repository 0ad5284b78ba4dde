import { describe, expect, it } from 'vitest';
import { formatDelta, formatFigure, formatTime, metricName, metricSections } from './figures';

describe('comparison figures', () => {
  it('shows simulated time in ns, µs or ms with thousands separators', () => {
    expect(formatTime(950)).toBe('950 ns');
    expect(formatTime(12_400)).toBe('12.4 µs');
    expect(formatTime(1_234_500_000)).toBe('1,234.5 ms');
  });

  it('gives each unit its own form and a signed delta with the ratio', () => {
    expect(formatFigure(1234.567, 'transactions/ms')).toBe('1,234.57 transactions/ms');
    expect(formatFigure(97.5, '%')).toBe('97.5 %');
    expect(formatFigure(null, 'ns')).toBe('—');
    expect(formatDelta(-2_000, 0.5, 'ns')).toBe('−2 µs (×0.500)');
    expect(formatDelta(0, 1, 'count')).toBe('±0 (×1.000)');
  });

  it('groups metrics by system, then IOMMU, then device, and names them inside their group', () => {
    const metric = (path: string, group: 'system' | 'iommu' | 'device', scope: string | null) => ({
      path,
      group,
      scope,
      values: [1, 2],
      deltas: [0, 1],
      ratios: [1, 2],
    });
    const sections = metricSections([
      metric('/devices/nic0/pages', 'device', 'nic0'),
      metric('/queues/vtd0/pageRequest/max', 'iommu', 'vtd0'),
      metric('/system/pages', 'system', null),
    ]);
    expect(sections.map((s) => s.title)).toEqual(['System', 'IOMMU vtd0', 'Device nic0']);
    expect(metricName('/devices/nic0/faults/latencyNs/p99')).toBe('faults › latencyNs › p99');
    expect(metricName('/queues/vtd0/pageRequest/max')).toBe('vtd0 › pageRequest › max');
  });
});
