import { describe, expect, it } from 'vitest';
import { queueNote } from './queue-note';

describe('the job queue’s connection is explained while it is not ready', () => {
  it('an unreachable Redis: its failures and the last error', () => {
    expect(
      queueNote({ state: 'unreachable', error: 'connect ECONNREFUSED 127.0.0.1:6379', failures: 3 }),
    ).toBe("The job queue's Redis is unreachable (3 failures): connect ECONNREFUSED 127.0.0.1:6379");
    expect(queueNote({ state: 'unreachable', failures: 1 })).toBe(
      "The job queue's Redis is unreachable (1 failure).",
    );
  });

  it('a connecting one says so; a ready one, or none, needs no note', () => {
    expect(queueNote({ state: 'connecting' })).toBe("The job queue's Redis is connecting.");
    expect(queueNote({ state: 'ready' })).toBeNull();
    expect(queueNote(null)).toBeNull();
  });
});
