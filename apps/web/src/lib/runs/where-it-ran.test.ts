import { describe, expect, it } from 'vitest';
import type { RunAttempt } from '@iommu-lab/client';
import { describeAttempt, whereItRan } from './where-it-ran';

describe('a run says where it ran', () => {
  it('names its worker, in the tense of its status', () => {
    expect(whereItRan({ engine: 'bullmq', worker: 'gpu1:4242:x7', status: 'done' })).toBe(
      'ran on gpu1:4242:x7',
    );
    expect(whereItRan({ engine: 'bullmq', worker: 'gpu1:4242:x7', status: 'running' })).toBe(
      'runs on gpu1:4242:x7',
    );
    expect(whereItRan({ engine: 'bullmq', worker: 'gpu1:4242:x7', status: 'interrupted' })).toBe(
      'ran on gpu1:4242:x7',
    );
  });

  it('a local run with no worker ran in the server’s pool', () => {
    expect(whereItRan({ engine: 'local', worker: null, status: 'done' })).toBe('local pool');
  });

  it('a queued run no worker has taken says so, and so does one that ended before any did', () => {
    expect(whereItRan({ engine: 'bullmq', worker: null, status: 'queued' })).toBe(
      'waiting in the queue for a worker',
    );
    expect(whereItRan({ engine: 'bullmq', worker: null, status: 'failed' })).toBe('no worker took it');
  });
});

describe('each attempt of a run in a line: its worker, the records on disk at its start, how it ended', () => {
  const attempt = (fields: Partial<RunAttempt>): RunAttempt => ({
    attempt: 1,
    worker: 'w1',
    startedAt: '2026-12-03T10:00:00.000Z',
    recordsAtStart: 0,
    endedAt: '2026-12-03T10:00:03.200Z',
    end: 'done',
    reason: null,
    ...fields,
  });

  it('a lost attempt says why and after how long', () => {
    expect(describeAttempt(attempt({ end: 'lost', reason: 'worker w1 stopped answering' }))).toBe(
      'attempt 1 on w1: started with 0 fault records on disk, ended lost after 3.2 s: worker w1 stopped answering',
    );
  });

  it('a retry names the records it resumed after', () => {
    expect(describeAttempt(attempt({ attempt: 2, worker: 'w2', recordsAtStart: 12_345 }))).toBe(
      'attempt 2 on w2: started with 12,345 fault records on disk, ended done after 3.2 s',
    );
    expect(describeAttempt(attempt({ recordsAtStart: 1 }))).toContain('with 1 fault record on disk');
  });

  it('a refused attempt says only that, and why (it never ran there)', () => {
    expect(
      describeAttempt(attempt({ end: 'refused', reason: 'emulator 0.1.0+aaa, the job needs 0.1.0+bbb' })),
    ).toBe('attempt 1 on w1: refused: emulator 0.1.0+aaa, the job needs 0.1.0+bbb');
  });

  it('an attempt that has not ended is running', () => {
    expect(describeAttempt(attempt({ attempt: 3, end: null, endedAt: null }))).toBe(
      'attempt 3 on w1: started with 0 fault records on disk, still running',
    );
  });
});
