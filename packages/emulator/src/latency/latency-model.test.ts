import { describe, expect, it } from 'vitest';
import { DEFAULT_LATENCY, LATENCY_SOURCES, resolveLatency } from './latency-model';

describe('latency model', () => {
  it('gives every default a source, marking assumptions as such', () => {
    for (const key of Object.keys(DEFAULT_LATENCY) as (keyof typeof DEFAULT_LATENCY)[]) {
      expect(LATENCY_SOURCES[key], key).toMatch(/assumption|reference/);
    }
  });

  it('cites NP-RDMA for the major fault cost of 60 µs (reference §9)', () => {
    expect(DEFAULT_LATENCY.majorFaultNs).toBe(60_000);
    expect(LATENCY_SOURCES.majorFaultNs).toContain('NP-RDMA');
  });

  it('applies overrides and keeps the other defaults', () => {
    const model = resolveLatency({ walkAccessNs: 90, priRoundTripNs: 3000 });
    expect(model).toEqual({ ...DEFAULT_LATENCY, walkAccessNs: 90, priRoundTripNs: 3000 });
  });

  it('refuses negative, non-finite, unknown and zero-bandwidth settings with EINVAL', () => {
    for (const bad of [
      { iotlbHitNs: -1 },
      { atcHitNs: Number.NaN },
      { walkAccessNs: Number.POSITIVE_INFINITY },
      { warpNs: 1 },
      { transferBytesPerNs: 0 },
    ]) {
      expect(() => resolveLatency(bad as never)).toThrow(
        expect.objectContaining({ code: 'EINVAL', reason: 'bad-latency' }),
      );
    }
  });
});
