import { describe, expect, it } from 'vitest';
import type { WorkloadResult as WorkloadOutcome } from '@iommu-lab/client';
import { WorkloadStore, type WorkloadClient } from './workload.svelte';

const spec = {
  streams: [{ device: 'nic0', pattern: 'random' as const, base: '0x0', workingSet: 4096, count: 3 }],
};

function outcome(ended: number, total = 3): WorkloadOutcome {
  return {
    id: 'wl1',
    progress: { submitted: total, ended, completed: ended, failed: 0, total },
    finished: ended === total,
    timeNs: ended * 100,
    eventsByKind: {},
    metrics: {},
  };
}

/** A client whose lab answers with `answers` in turn; `seen` records each progress the store shows. */
function client(answers: WorkloadOutcome[], lab: { id: string | null } = { id: 'lab1' }) {
  const reads: string[] = [];
  let next = 0;
  const fake: WorkloadClient = {
    lab: () => lab.id,
    start: async () => answers[next++]!,
    progress: async (labId, workload) => {
      reads.push(`${labId}/${workload}`);
      return answers[next++]!;
    },
    pause: async () => {},
  };
  return { fake, reads };
}

describe('the workload panel follows a workload to its end', () => {
  it('reads the progress of a running workload until it has ended, showing each step', async () => {
    const { fake, reads } = client([outcome(0), outcome(1), outcome(3)]);
    const store = new WorkloadStore(fake);
    const shown: number[] = [];
    fake.pause = async () => {
      shown.push(store.outcome!.progress.ended);
      expect(store.following).toBe(true);
    };
    const running = store.run(spec, true);
    expect(store.busy).toBe(true);
    await running;
    expect(shown).toEqual([0, 1]);
    expect(reads).toEqual(['lab1/wl1', 'lab1/wl1']);
    expect(store.outcome).toMatchObject({ finished: true, progress: { ended: 3 } });
    expect(store.busy).toBe(false);
    expect(store.following).toBe(false);
  });

  it('a workload that ended before the answer is not followed', async () => {
    const { fake, reads } = client([outcome(3)]);
    const store = new WorkloadStore(fake);
    await store.run(spec, true);
    expect(reads).toEqual([]);
    expect(store.outcome?.finished).toBe(true);
  });

  it('stops following when another lab is shown, and keeps the last progress', async () => {
    const lab = { id: 'lab1' as string | null };
    const { fake, reads } = client([outcome(0), outcome(1), outcome(2), outcome(3)], lab);
    const pause = fake.pause;
    let pauses = 0;
    fake.pause = async () => {
      if (++pauses === 2) lab.id = 'lab2';
      await pause();
    };
    const store = new WorkloadStore(fake);
    await store.run(spec, true);
    expect(reads).toEqual(['lab1/wl1']);
    expect(store.outcome?.progress.ended).toBe(1);
    expect(store.following).toBe(false);
  });

  it('a refusal while following (the lab was reset) is shown, and following stops', async () => {
    const { fake } = client([outcome(0)]);
    fake.progress = async () => {
      throw new Error('lab lab1 has no workload "wl1".');
    };
    const store = new WorkloadStore(fake);
    await store.run(spec, true);
    expect(store.error).toMatchObject({ message: 'lab lab1 has no workload "wl1".' });
    expect(store.following).toBe(false);
  });
});
