import { describe, expect, it } from 'vitest';
import type { SweepView } from '@iommu-lab/client';
import { SweepFollower } from './sweep.svelte';

const sweep = (status: SweepView['status']) => ({ id: 's1', status }) as SweepView;

describe('a sweep block follows its sweep while it runs', () => {
  it('reads it again while it is running and stops once it is done', async () => {
    const answers: (SweepView | Error)[] = [sweep('running'), new Error('Failed to fetch'), sweep('done')];
    const asked: string[] = [];
    let pauses = 0;
    const follower = new SweepFollower('s1', {
      sweep: async (id) => {
        asked.push(id);
        const answer = answers.shift()!;
        if (answer instanceof Error) throw answer;
        return answer;
      },
      pause: async () => {
        pauses++;
      },
    });
    follower.show();
    await expect.poll(() => follower.sweep?.status).toBe('done');
    // The failed read was read again, not taken as the end; after "done" nothing more is asked.
    expect(asked).toEqual(['s1', 's1', 's1']);
    expect(pauses).toBe(2);
    expect(follower.error).toBeNull();
  });

  it('a sweep that has ended is read once', async () => {
    let reads = 0;
    const follower = new SweepFollower('s1', {
      sweep: async () => {
        reads++;
        return sweep('failed');
      },
      pause: async () => {},
    });
    follower.show();
    await expect.poll(() => follower.sweep?.status).toBe('failed');
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(reads).toBe(1);
  });
});
