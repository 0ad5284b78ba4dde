/** Tick marks of a simulated-time axis: steps of 1, 2 or 5 × 10^k ns, labelled in ns, µs or ms with separators. */
export interface Tick {
  ns: number;
  label: string;
}

const NUMBER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 3 });

/** A time in ns in the unit that suits the tick step (so labels on one axis share a unit). */
export function formatSimTime(time: number, stepNs: number): string {
  const ns = time === 0 ? 0 : time; // never "-0 µs"
  if (stepNs >= 1_000_000) return `${NUMBER.format(ns / 1_000_000)} ms`;
  if (stepNs >= 1_000) return `${NUMBER.format(ns / 1_000)} µs`;
  return `${NUMBER.format(ns)} ns`;
}

/** The smallest 1/2/5 × 10^k step (at least 1 ns) giving no more than maxTicks ticks over the range. */
export function tickStep(spanNs: number, maxTicks: number): number {
  const raw = Math.max(spanNs / Math.max(1, maxTicks), 1);
  const pow = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * pow >= raw) return m * pow;
  return 10 * pow;
}

/** Ticks covering [startNs, endNs]. */
export function ticks(startNs: number, endNs: number, maxTicks: number): Tick[] {
  if (!(endNs > startNs)) return [];
  const step = tickStep(endNs - startNs, maxTicks);
  const out: Tick[] = [];
  for (let t = Math.ceil(startNs / step) * step; t <= endNs; t += step)
    out.push({ ns: t, label: formatSimTime(t, step) });
  return out;
}
