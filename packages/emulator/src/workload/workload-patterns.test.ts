import { describe, expect, it } from 'vitest';
import { capture, systemWith } from '../testing/fixtures';
import type { StreamSpec } from './workload-spec';

function run(stream: Partial<StreamSpec>, seed = 1) {
  const s = systemWith('vtd', 'mainline', [{ id: 'dev' }, { id: 'other' }], { seed });
  s.createDomain({ id: 'd', iommu: 'iommu0', type: 'dma' });
  s.map('d', { iova: '0x0', size: 0x1000000, prot: 'rw' });
  s.attach('dev', 'd');
  s.attach('other', 'd');
  const completed = capture(s, 'dma.completed');
  const progress: number[] = [];
  const workload = s.runWorkload(
    {
      streams: [
        { device: 'dev', pattern: 'sequential', base: '0x0', workingSet: 0x10000, count: 16, ...stream },
      ],
    },
    (p) => progress.push(p.ended),
  );
  s.runUntilIdle();
  return { s, workload, completed, progress };
}

describe('workload generators', () => {
  it('sequential walks the working set in order and wraps around', () => {
    const { completed, workload, progress } = run({ count: 20, workingSet: 0x4000, accessSize: 0x1000 });
    expect(completed.slice(0, 6).map((e) => e.address)).toEqual([
      '0x0',
      '0x1000',
      '0x2000',
      '0x3000',
      '0x0',
      '0x1000',
    ]);
    expect(workload.finished).toBe(true);
    expect(workload.progress).toMatchObject({ submitted: 20, ended: 20, completed: 20, failed: 0 });
    expect(progress).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('strided steps by the stride', () => {
    const { completed } = run({ pattern: 'strided', stride: 0x3000, workingSet: 0x100000, count: 4 });
    expect(completed.map((e) => e.address)).toEqual(['0x0', '0x3000', '0x6000', '0x9000']);
  });

  it('random stays inside the working set, aligned to the access size, and depends on the seed', () => {
    const a = run({ pattern: 'random', workingSet: 0x10000, accessSize: 0x800, count: 200 }, 1);
    const b = run({ pattern: 'random', workingSet: 0x10000, accessSize: 0x800, count: 200 }, 2);
    const addresses = a.completed.map((e) => Number(BigInt(e.address)));
    expect(addresses.every((x) => x < 0x10000 && x % 0x800 === 0)).toBe(true);
    expect(new Set(addresses).size).toBeGreaterThan(20);
    expect(addresses).not.toEqual(b.completed.map((e) => Number(BigInt(e.address))));
  });

  it('hotspot sends most accesses to the hot part of the working set', () => {
    const { completed } = run({
      pattern: 'hotspot',
      workingSet: 0x100000,
      hotFraction: 0.1,
      hotProbability: 0.9,
      count: 500,
    });
    const hot = completed.filter((e) => Number(BigInt(e.address)) < 0x100000 * 0.1).length;
    expect(hot / completed.length).toBeGreaterThan(0.85);
    expect(hot / completed.length).toBeLessThan(0.95);
  });

  it('mixes reads and writes by readFraction', () => {
    const { completed } = run({ readFraction: 0.25, count: 400 });
    const reads = completed.filter((e) => e.access === 'read').length;
    expect(reads / completed.length).toBeGreaterThan(0.18);
    expect(reads / completed.length).toBeLessThan(0.32);
  });

  it('keeps `concurrency` transactions in flight, and think time and bursts space them out', () => {
    const inFlight = (stream: Partial<StreamSpec>) => {
      const s = systemWith('vtd', 'mainline', [{ id: 'dev' }]);
      s.createDomain({ id: 'd', iommu: 'iommu0', type: 'dma' });
      s.map('d', { iova: '0x0', size: 0x10000, prot: 'rw' });
      s.attach('dev', 'd');
      let max = 0;
      s.on('dma.page', () => (max = Math.max(max, s.transactionsInFlight)));
      s.runWorkload({
        streams: [
          { device: 'dev', pattern: 'sequential', base: '0x0', workingSet: 0x10000, count: 40, ...stream },
        ],
      });
      s.runUntilIdle();
      return { max, end: s.nowNs };
    };
    expect(inFlight({ concurrency: 1 }).max).toBe(1);
    expect(inFlight({ concurrency: 6 }).max).toBe(6);
    const plain = inFlight({}).end;
    expect(inFlight({ thinkTimeNs: 1000 }).end).toBeGreaterThanOrEqual(plain + 39 * 1000);
    expect(inFlight({ burst: { size: 10, gapNs: 50_000 } }).end).toBeGreaterThanOrEqual(plain + 3 * 50_000);
  });

  it('runs several streams on several devices at once', () => {
    const s = systemWith('vtd', 'mainline', [{ id: 'a' }, { id: 'b' }]);
    s.createDomain({ id: 'd', iommu: 'iommu0', type: 'dma' });
    s.map('d', { iova: '0x0', size: 0x10000, prot: 'rw' });
    s.attach('a', 'd');
    s.attach('b', 'd');
    const workload = s.runWorkload({
      streams: [
        { device: 'a', pattern: 'sequential', base: '0x0', workingSet: 0x10000, count: 10 },
        { device: 'b', pattern: 'random', base: '0x0', workingSet: 0x10000, count: 7, startNs: 1000 },
      ],
    });
    s.runUntilIdle();
    expect(workload.progress).toMatchObject({ total: 17, completed: 17 });
    expect(s.metrics().devices.b!.transactions.completed).toBe(7);
  });

  it('refuses a malformed workload or an unknown device with a clear error', () => {
    const s = systemWith('vtd', 'mainline', [{ id: 'dev' }]);
    expect(() =>
      s.runWorkload({
        streams: [{ device: 'dev', pattern: 'zigzag' as never, base: '0x0', workingSet: 4096, count: 1 }],
      }),
    ).toThrow(expect.objectContaining({ code: 'EINVAL', path: '/streams/0/pattern' }));
    expect(() =>
      s.runWorkload({
        streams: [{ device: 'ghost', pattern: 'random', base: '0x0', workingSet: 4096, count: 1 }],
      }),
    ).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(s.pendingEvents).toBe(0);
  });
});

describe('workload bounds', () => {
  it('a stream whose working set runs past the top of the 64-bit space is refused (ERANGE), as a single DMA is', () => {
    const system = systemWith('vtd', 'mainline', [{ id: 'd0' }]);
    const stream = { device: 'd0', pattern: 'sequential' as const, base: '0xfffffffffffff000', count: 1 };
    expect(() => system.runWorkload({ streams: [{ ...stream, workingSet: 16 * 1024 * 1024 }] })).toThrow(
      expect.objectContaining({ code: 'ERANGE', reason: 'out-of-range' }),
    );
    expect(system.pendingEvents).toBe(0);
    expect(() => system.runWorkload({ streams: [{ ...stream, workingSet: 4096 }] })).not.toThrow();
  });
});
