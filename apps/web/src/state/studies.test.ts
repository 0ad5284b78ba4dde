import { describe, expect, it } from 'vitest';
import type { StudyRunView } from '@iommu-lab/client';
import { StudiesStore } from './studies.svelte';

const view = (status: StudyRunView['status'], progress: number): StudyRunView =>
  ({ id: 's1', name: 'iotlb-reach', status, progress }) as StudyRunView;

/**
 * A store whose server starts study s1 and then answers `reads` in turn (an Error is thrown); each pause
 * notes what the page shows then. Resolves once the store has stopped reading (or after `reads` run out).
 */
async function followed(reads: (StudyRunView | Error)[]) {
  let read = 0;
  let inFlight = 0;
  let mostInFlight = 0;
  const shown: { status?: string; progress?: number; error?: string }[] = [];
  const store: StudiesStore = new StudiesStore({
    list: async () => [],
    run: async () => view('running', 0),
    get: async () => {
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1));
      inFlight--;
      const answer = reads[read++];
      if (answer === undefined) throw new Error('read after the end');
      if (answer instanceof Error) throw answer;
      return answer;
    },
    pause: async () => {
      const [run] = store.runsOf('iotlb-reach');
      shown.push({
        status: run?.status,
        progress: run?.progress,
        error: store.readErrors.get('s1')?.message,
      });
    },
  });
  await store.run('iotlb-reach');
  // Give the reads (1 ms each) time to run out, or a loop that did not stop the chance to read again.
  await new Promise((resolve) => setTimeout(resolve, 50));
  return { store, shown, reads: read, mostInFlight };
}

describe('a study run started from the Studies view is read until it ends', () => {
  it('shows its progress after each read, one read at a time, and stops reading once it is done', async () => {
    const { store, shown, reads, mostInFlight } = await followed([
      view('running', 0.2),
      view('running', 0.7),
      view('done', 1),
    ]);
    expect(shown).toEqual([
      { status: 'running', progress: 0.2, error: undefined },
      { status: 'running', progress: 0.7, error: undefined },
    ]);
    expect(store.runsOf('iotlb-reach')).toEqual([view('done', 1)]);
    expect(reads).toBe(3);
    expect(mostInFlight).toBe(1);
  });

  it('stops reading a failed run', async () => {
    const { store, reads } = await followed([view('running', 0.5), view('failed', 0.6)]);
    expect(store.runsOf('iotlb-reach')[0]!.status).toBe('failed');
    expect(reads).toBe(2);
  });

  it('shows a failed read, keeps the last answer, and reads on', async () => {
    const { store, shown } = await followed([
      view('running', 0.3),
      new Error('Failed to fetch'),
      view('done', 1),
    ]);
    expect(shown).toEqual([
      { status: 'running', progress: 0.3, error: undefined },
      { status: 'running', progress: 0.3, error: 'Failed to fetch' },
    ]);
    expect(store.readErrors.size).toBe(0);
    expect(store.runsOf('iotlb-reach')[0]!.status).toBe('done');
  });
});

describe('starting a study', () => {
  it('keeps the runs of this page session newest first, by study', async () => {
    let next = 0;
    const store = new StudiesStore({
      list: async () => [],
      run: async (name) => ({ id: `s${++next}`, name, status: 'done', progress: 1 }) as StudyRunView,
      get: () => Promise.reject(new Error('a done run is not read')),
      pause: async () => {},
    });
    await store.run('iotlb-reach');
    await store.run('other');
    await store.run('iotlb-reach');
    expect(store.runsOf('iotlb-reach').map((run) => run.id)).toEqual(['s3', 's1']);
    expect(store.runs.map((run) => run.id)).toEqual(['s3', 's2', 's1']);
  });

  it('shows a refusal against the study, and forgets it on the next Run', async () => {
    let refuse = true;
    const store = new StudiesStore({
      list: async () => [],
      run: async (name) => {
        if (refuse) throw new Error('no engine');
        return { id: 's1', name, status: 'done', progress: 1 } as StudyRunView;
      },
      get: () => Promise.reject(new Error('a done run is not read')),
      pause: async () => {},
    });
    await store.run('iotlb-reach');
    expect(store.startErrors.get('iotlb-reach')).toEqual({ code: 'ERROR', message: 'no engine' });
    expect(store.starting.size).toBe(0);
    expect(store.runs).toEqual([]);
    refuse = false;
    await store.run('iotlb-reach');
    expect(store.startErrors.size).toBe(0);
    expect(store.runs).toHaveLength(1);
  });
});
