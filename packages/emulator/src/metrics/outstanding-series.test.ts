import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type SeriesBins, mergeMax, mergeSum } from './occupancy-series';
import { OutstandingSeries } from './outstanding-series';

/** One device's level as the per-device arrays kept it before the shared table (the reference). */
class OneDevice {
  level = 0;
  readonly maxByBin: Float64Array;
  readonly integralByBin: Float64Array;
  private changedNs = 0;

  constructor(private readonly bins: SeriesBins) {
    this.maxByBin = new Float64Array(bins.capacity);
    this.integralByBin = new Float64Array(bins.capacity);
  }

  record(timeNs: number, level: number): void {
    const atNs = Math.max(timeNs, this.changedNs);
    const bin = this.bins.binAt(atNs);
    this.holdUntil(atNs);
    this.level = level;
    this.maxByBin[bin] = Math.max(this.maxByBin[bin]!, level);
  }

  holdUntil(timeNs: number): void {
    const from = this.changedNs;
    if (timeNs <= from) return;
    this.changedNs = timeNs;
    const width = this.bins.binNs;
    for (let bin = Math.floor(from / width); bin <= Math.ceil(timeNs / width) - 1; bin++) {
      this.maxByBin[bin] = Math.max(this.maxByBin[bin]!, this.level);
      this.integralByBin[bin]! +=
        this.level * (Math.min(timeNs, (bin + 1) * width) - Math.max(from, bin * width));
    }
  }
}

/** Bins of `capacity` from time 0 that double in width (as SimSeries), merging both structures. */
function bins(capacity: number, merge: () => void) {
  const state: SeriesBins & { nowNs: number; binNs: number } = {
    nowNs: 0,
    binNs: 1,
    capacity,
    binAt(timeNs: number) {
      while (Math.floor(timeNs / state.binNs) >= capacity) {
        merge();
        state.binNs *= 2;
      }
      return Math.floor(timeNs / state.binNs);
    },
  };
  return state;
}

describe('outstanding page requests of many devices in one table', () => {
  it('give every device the bins its own arrays gave, devices joining late and past a block of 16 (property)', () => {
    const change = fc.record({
      device: fc.nat(149),
      advanceNs: fc.oneof(fc.constant(0), fc.nat(50), fc.nat(5000)),
      // Some changes are dated before the previous one (the driver's round at future offsets).
      backNs: fc.oneof(fc.constant(0), fc.constant(0), fc.nat(300)),
      level: fc.nat(64),
    });
    fc.assert(
      fc.property(fc.array(change, { minLength: 1, maxLength: 400 }), (changes) => {
        const reference = new Map<string, OneDevice>();
        const shared = bins(32, () => {
          table.mergePairs();
          for (const one of reference.values()) {
            mergeMax(one.maxByBin);
            mergeSum(one.integralByBin);
          }
        });
        const table = new OutstandingSeries(shared);
        for (const { device, advanceNs, backNs, level } of changes) {
          shared.nowNs += advanceNs;
          const id = `dev${device}`;
          if (!reference.has(id)) reference.set(id, new OneDevice(shared));
          const timeNs = Math.max(0, shared.nowNs - backNs);
          reference.get(id)!.record(timeNs, level);
          table.record(table.column(id), timeNs, level);
        }
        shared.binAt(shared.nowNs);
        table.holdAllUntil(shared.nowNs);
        expect(table.devices).toEqual([...reference.keys()]);
        for (const [id, one] of reference) {
          one.holdUntil(shared.nowNs);
          const column = table.column(id);
          expect(table.maxima(column, 32)).toEqual(Array.from(one.maxByBin));
          expect(table.integrals(column, 32)).toEqual(Array.from(one.integralByBin));
          expect(table.level(column)).toBe(one.level);
        }
      }),
      { seed: 5, numRuns: 200 },
    );
  });
});
