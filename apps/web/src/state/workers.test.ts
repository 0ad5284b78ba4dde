import { describe, expect, it } from 'vitest';
import type { WorkersView } from '@iommu-lab/client';
import { WorkersStore } from './workers.svelte';

const ready = (workers: number): WorkersView => ({
  queue: { state: 'ready' },
  workers: Array.from({ length: workers }, (_, i) => ({ id: `w${i}` }) as WorkersView['workers'][number]),
});

/**
 * A store on a client answering `answers` in turn (an Error is thrown), hidden at its `hideAfter`th pause;
 * each pause notes what the panel shows then.
 */
async function shownUntil(answers: (WorkersView | Error)[], hideAfter: number) {
  let reads = 0;
  let clock = 1000;
  const shown: { workers: number | undefined; error: string | undefined; readAtMs: number }[] = [];
  let hide = () => {};
  let hidden!: () => void;
  const done = new Promise<void>((resolve) => (hidden = resolve));
  const store: WorkersStore = new WorkersStore({
    workers: async () => {
      const answer = answers[reads++]!;
      if (answer instanceof Error) throw answer;
      return answer;
    },
    pause: async () => {
      shown.push({
        workers: store.view?.workers.length,
        error: store.error?.message,
        readAtMs: store.readAtMs,
      });
      if (shown.length === hideAfter) {
        hide();
        hidden();
      }
    },
    now: () => (clock += 1000),
  });
  hide = store.show();
  await done;
  // Give a loop that did not stop the chance to read again.
  await new Promise((resolve) => setTimeout(resolve, 10));
  return { shown, reads };
}

describe('the workers panel reads GET /workers while it is shown', () => {
  it('shows each answer and when it came, and reads no more once hidden', async () => {
    const { shown, reads } = await shownUntil([ready(1), ready(2), ready(3)], 2);
    expect(shown).toEqual([
      { workers: 1, error: undefined, readAtMs: 2000 },
      { workers: 2, error: undefined, readAtMs: 3000 },
    ]);
    expect(reads).toBe(2);
  });

  it('a failed read is shown, the workers last read stay, and reading goes on', async () => {
    const { shown } = await shownUntil([ready(2), new Error('Failed to fetch'), ready(1)], 3);
    expect(shown.map(({ workers, error }) => ({ workers, error }))).toEqual([
      { workers: 2, error: undefined },
      { workers: 2, error: 'Failed to fetch' },
      { workers: 1, error: undefined },
    ]);
  });
});
