/**
 * Seeded pseudo-random numbers for everything in the emulator that is random (replacement choices,
 * workload addresses). xoroshiro128+ from pure-rand, the generator fast-check uses: small, fast and
 * with a state that can be read back, so a run can be replayed exactly from its seed.
 */
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';
import { fail } from '../errors';

export class Random {
  private readonly generator: RandomGenerator;
  readonly seed: number;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed))
      fail('EINVAL', `seed ${seed} must be an integer.`, { reason: 'bad-seed' });
    this.seed = seed;
    // pure-rand seeds from 32 bits; fold the high half in so seeds above 2^32 still differ.
    this.generator = xoroshiro128plus((seed ^ Math.floor(seed / 2 ** 32)) | 0);
  }

  /** Uniform integer in [from, to], both included. */
  int(from: number, to: number): number {
    return uniformInt(this.generator, from, to);
  }

  /** Uniform float in [0, 1) with 32 bits of randomness. */
  float(): number {
    return (this.generator.next() >>> 0) / 2 ** 32;
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** The generator's internal state, for checks that two runs are at the same point. */
  state(): readonly number[] {
    return this.generator.getState();
  }
}
