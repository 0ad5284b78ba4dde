import { describe, expect, it } from 'vitest';
import type { SavedStudyView, StudyRunView } from '@iommu-lab/client';
import { type StudiesClient, StudiesStore } from './studies.svelte';

const IOTLB = { builtin: 'iotlb-reach' } as const;

const view = (status: StudyRunView['status'], progress: number, id = 's1'): StudyRunView =>
  ({ id, name: 'iotlb-reach', status, progress, study: { builtin: 'iotlb-reach' } }) as StudyRunView;

/** A server with nothing on it, that refuses whatever a test did not expect to be asked. */
const client = (overrides: Partial<StudiesClient>): StudiesClient => ({
  list: async () => [],
  saved: async () => [],
  runs: async () => [],
  run: () => Promise.reject(new Error('not started here')),
  get: () => Promise.reject(new Error('a done run is not read')),
  save: () => Promise.reject(new Error('not saved here')),
  import: () => Promise.reject(new Error('not imported here')),
  delete: () => Promise.reject(new Error('not deleted here')),
  pause: async () => {},
  ...overrides,
});

/** Time for reads of 1 ms each to run out, or for a loop that did not stop to read again. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

/**
 * A store whose server starts study s1 and then answers `reads` in turn (an Error is thrown); each pause
 * notes what the page shows then. Resolves once the store has stopped reading (or after `reads` run out).
 */
async function followed(reads: (StudyRunView | Error)[]) {
  let read = 0;
  let inFlight = 0;
  let mostInFlight = 0;
  const shown: { status?: string; progress?: number; error?: string }[] = [];
  const store: StudiesStore = new StudiesStore(
    client({
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
        const [run] = store.runsOf(IOTLB);
        shown.push({
          status: run?.status,
          progress: run?.progress,
          error: store.readErrors.get('s1')?.message,
        });
      },
    }),
  );
  await store.run(IOTLB);
  await settle();
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
    expect(store.runsOf(IOTLB)).toEqual([view('done', 1)]);
    expect(store.shown).toEqual(view('done', 1));
    expect(reads).toBe(3);
    expect(mostInFlight).toBe(1);
  });

  it('stops reading a failed run', async () => {
    const { store, reads } = await followed([view('running', 0.5), view('failed', 0.6)]);
    expect(store.runsOf(IOTLB)[0]!.status).toBe('failed');
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
    expect(store.runsOf(IOTLB)[0]!.status).toBe('done');
  });
});

describe('starting a study', () => {
  it('keeps the runs newest first, by the study they ran, and shows the last one started', async () => {
    let next = 0;
    const store = new StudiesStore(
      client({
        run: async (study) =>
          ({
            id: `s${++next}`,
            name: 'iotlb-reach',
            status: 'done',
            progress: 1,
            study: 'builtin' in study ? study : { ...study, revision: 1 },
          }) as StudyRunView,
      }),
    );
    await store.run(IOTLB);
    // A saved copy of iotlb-reach: same name, its own runs.
    await store.run({ saved: 'c1' });
    await store.run(IOTLB);
    expect(store.runsOf(IOTLB).map((run) => run.id)).toEqual(['s3', 's1']);
    expect(store.runsOf({ saved: 'c1' }).map((run) => run.id)).toEqual(['s2']);
    expect(store.runs.map((run) => run.id)).toEqual(['s3', 's2', 's1']);
    expect(store.shownId).toBe('s3');
    store.open('s2');
    expect(store.shown?.id).toBe('s2');
  });

  it('shows a refusal against the study, and forgets it on the next Run', async () => {
    let refuse = true;
    const store = new StudiesStore(
      client({
        run: async () => {
          if (refuse) throw new Error('no engine');
          return view('done', 1);
        },
      }),
    );
    await store.run(IOTLB);
    expect(store.startErrors.get('builtin:iotlb-reach')).toEqual({ code: 'ERROR', message: 'no engine' });
    expect(store.starting.size).toBe(0);
    expect(store.runs).toEqual([]);
    refuse = false;
    await store.run(IOTLB);
    expect(store.startErrors.size).toBe(0);
    expect(store.runs).toHaveLength(1);
  });
});

describe('what the API keeps', () => {
  const saved = (id: string) => ({ id, name: 'iotlb-reach', revision: 1 }) as SavedStudyView;

  it('lists the saved studies and the past runs, and reads each running one once, however often it loads', async () => {
    const reads: string[] = [];
    let answer = () => {};
    const store = new StudiesStore(
      client({
        saved: async () => [saved('c2'), saved('c1')],
        runs: async () => [view('running', 0.5, 's2'), view('done', 1, 's1')],
        get: async (id) => {
          reads.push(id);
          await new Promise<void>((resolve) => (answer = resolve));
          return view('done', 1, id);
        },
      }),
    );
    await store.load();
    // Loaded again (the view shown again) while s2's read is in flight.
    await store.load();
    answer();
    await settle();
    expect(store.saved.map((study) => study.id)).toEqual(['c2', 'c1']);
    expect(store.runs.map((run) => [run.id, run.status])).toEqual([
      ['s2', 'done'],
      ['s1', 'done'],
    ]);
    expect(reads).toEqual(['s2']);
    expect(store.loadError).toBeNull();
  });

  it('an imported or copied study is listed first; a deleted one goes, and its runs stay without it', async () => {
    const store = new StudiesStore(
      client({
        saved: async () => [saved('c1')],
        runs: async () => [
          { ...view('done', 1, 's1'), study: { saved: 'c1', revision: 2 } },
          view('done', 1, 's2'),
        ],
        import: async () => saved('c2'),
        save: async () => saved('c3'),
        delete: async () => {},
      }),
    );
    await store.load();
    await store.import({ format: 'iommu-lab/study-file' });
    await store.save({} as never);
    expect(store.saved.map((study) => study.id)).toEqual(['c3', 'c2', 'c1']);
    await store.remove('c1');
    expect(store.saved.map((study) => study.id)).toEqual(['c3', 'c2']);
    expect(store.runs.map((run) => [run.id, run.study])).toEqual([
      ['s1', null],
      ['s2', { builtin: 'iotlb-reach' }],
    ]);
  });

  it('a load that fails says why', async () => {
    const store = new StudiesStore(client({ runs: () => Promise.reject(new Error('Failed to fetch')) }));
    await store.load();
    expect(store.loadError).toEqual({ code: 'ERROR', message: 'Failed to fetch' });
  });
});
