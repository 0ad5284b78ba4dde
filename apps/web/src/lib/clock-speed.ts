/**
 * What a live-clock speed means. The API's speed is simulated ns per wall ns (apps/api labs/live-clock.ts),
 * so a wall second carries speed × 1e9 ns of simulated time. Labels say what a speed does, and a
 * simulated span can be shown with the wall time it takes at that speed.
 */
import { formatNs } from './histogram';
import type { Speed } from '@iommu-lab/client';

/** Simulated time one wall second carries, e.g. 1e-3 → "1.00 ms of simulated time per second". */
export function speedLabel(speed: Speed): string {
  if (speed === 'max') return 'max: as fast as the host runs';
  if (speed === 1) return 'real time: 1 s of simulated time per second';
  return `${formatNs(speed * 1e9)} of simulated time per second (${speed})`;
}

/** Wall time a simulated span takes at `speed` ("≈ 16.6 min"), or null at max. */
export function wallTimeOf(simulatedNs: number, speed: Speed): string | null {
  if (speed === 'max') return null;
  const seconds = simulatedNs / 1e9 / speed;
  if (seconds < 1) return `≈ ${formatNs(seconds * 1e9)}`;
  if (seconds < 120) return `≈ ${seconds.toFixed(1)} s`;
  if (seconds < 7200) return `≈ ${(seconds / 60).toFixed(1)} min`;
  if (seconds < 172_800) return `≈ ${(seconds / 3600).toFixed(1)} h`;
  return `≈ ${(seconds / 86_400).toFixed(1)} days`;
}

/** Where a running clock was at one wall instant (performance.now() ms). */
export interface ClockSample {
  wallMs: number;
  simNs: number;
}

/**
 * The pace a running clock has kept since `since`, told in the units of its label: how much simulated time
 * passed in how much wall time, and the simulated time per wall second that makes ("+2.00 ms simulated in
 * 2.0 s wall: 1.00 ms of simulated time per second"). Null before a wall second has passed.
 */
export function measuredPace(since: ClockSample, now: ClockSample): string | null {
  const wallMs = now.wallMs - since.wallMs;
  if (wallMs < 1000) return null;
  const simNs = now.simNs - since.simNs;
  const perSecond = (simNs / wallMs) * 1000;
  return `+${formatNs(simNs)} simulated in ${(wallMs / 1000).toFixed(1)} s wall: ${formatNs(perSecond)} of simulated time per second`;
}
