/**
 * A comparison lists metrics, not series (issue 12): two runs of a one-device experiment compared on a real
 * server give no metric whose path indexes into a series (a queue's occupancy points), group every metric
 * by system / IOMMU / device, derive the headline figures no counter holds (throughput, hit rates, flows by
 * outcome), and give the runs' series on one bin width to overlay.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type Running, call, startServer, wsUrl } from '../testing/harness';

interface Metric {
  path: string;
  group: string;
  scope: string | null;
  values: (number | null)[];
}

describe('GET /compare of two runs', () => {
  let server: Running;
  const api = (method: string, path: string, body?: unknown) =>
    call(server.url, method, `/api/v1${path}`, body);
  const runToEnd = async (experiment: string, seed: number) => {
    const started = await api('POST', `/experiments/${experiment}/runs`, { seed });
    await new Promise<void>((resolve, reject) => {
      const socket = new WebSocket(wsUrl(server.url, `/api/v1/runs/${started.body.id}/stream`));
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
    return (await api('GET', `/runs/${started.body.id}`)).body;
  };
  let compared: {
    metrics: Metric[];
    series: {
      time: ({ startNs: number; binNs: number; bins: number } | null)[];
      lines: { key: string; unit: string; values: ((number | null)[] | null)[] }[];
    };
  };
  let runs: {
    id: string;
    simulatedNs: number;
    metrics: {
      system: {
        transactions: { completed: number };
        translations: { iotlbHits: number; iotlbMisses: number };
      };
    };
  }[];

  beforeAll(async () => {
    server = await startServer();
    const presets = (await api('GET', '/presets')).body as {
      id: string;
      config: object;
      workload: { streams: { count: number }[] };
    }[];
    const preset = presets.find((p) => p.id === 'sva-pri-vtd')!;
    const workload = structuredClone(preset.workload);
    for (const stream of workload.streams) stream.count = 400;
    const experiment = (
      await api('POST', '/experiments', {
        name: 'one device',
        config: { version: 1, system: preset.config, workload, seed: 1 },
      })
    ).body.id as string;
    runs = [await runToEnd(experiment, 1), await runToEnd(experiment, 2)];
    const answer = await api('GET', `/compare?runs=${runs.map((run) => run.id).join(',')}`);
    expect(answer.status).toBe(200);
    compared = answer.body;
  });
  afterAll(() => server.close());

  it('lists no series index as a metric', () => {
    expect(compared.metrics.length).toBeGreaterThan(50);
    const indexed = compared.metrics.filter((metric) => /\/\d+(\/|$)/.test(metric.path));
    expect(indexed.map((metric) => metric.path)).toEqual([]);
    expect(compared.metrics.some((metric) => metric.path.includes('/occupancy'))).toBe(false);
    // The queue's scalars stay, under its IOMMU.
    expect(compared.metrics.find((metric) => metric.path === '/queues/vtd0/pageRequest/max')).toMatchObject({
      group: 'iommu',
      scope: 'vtd0',
    });
  });

  it('groups every metric by where it was counted', () => {
    const groupOf = (path: string) => compared.metrics.find((metric) => metric.path === path);
    expect(groupOf('/system/transactions/completed')).toMatchObject({ group: 'system', scope: null });
    expect(groupOf('/hopLatencyNs/handler/mean')).toMatchObject({ group: 'system', scope: null });
    const device = compared.metrics.find((metric) => metric.group === 'device')!;
    expect(device.path).toMatch(new RegExp(`^/devices/${device.scope}/`));
    const iommu = compared.metrics.find((metric) => metric.path.startsWith('/iommus/'))!;
    expect(iommu).toMatchObject({ group: 'iommu', scope: 'vtd0' });
  });

  it('derives throughput per simulated time, hit rates and flows by outcome', () => {
    const values = (path: string) => compared.metrics.find((metric) => metric.path === path)?.values;
    expect(values('/system/throughput/transactionsPerMs')).toEqual(
      runs.map((run) => (run.metrics.system.transactions.completed / run.simulatedNs) * 1e6),
    );
    expect(values('/system/translations/iotlbHitRate')).toEqual(
      runs.map(
        ({
          metrics: {
            system: { translations: t },
          },
        }) => t.iotlbHits / (t.iotlbHits + t.iotlbMisses),
      ),
    );
    expect(values('/system/faults/byOutcome/resumed')!.every((value) => value! > 0)).toBe(true);
  });

  it("gives each run's series on one bin width, as lines with units", () => {
    const [one, two] = compared.series.time;
    expect(one!.binNs).toBe(two!.binNs);
    const flows = compared.series.lines.find((line) => line.key === 'faultRate/flowsStarted')!;
    expect(flows.unit).toBe('per µs');
    expect(flows.values.map((run) => run!.length)).toEqual([one!.bins, two!.bins]);
    // Rates per µs times the bin width in µs give back every flow started.
    for (const [i, run] of flows.values.entries()) {
      const started = run!.reduce<number>(
        (sum, rate) => sum + rate! * (compared.series.time[i]!.binNs / 1000),
        0,
      );
      expect(started).toBeGreaterThan(0);
    }
    expect(compared.series.lines.map((line) => line.key)).toContain('iotlbHitRate');
    expect(compared.series.lines.some((line) => line.key.startsWith('queueOccupancy/vtd0/'))).toBe(true);
  });
});
