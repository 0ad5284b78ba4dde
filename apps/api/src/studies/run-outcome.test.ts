/** A study's runs ended by the emulator's rules are answers; only the machine's failures fail the study. */
import { describe, expect, it } from 'vitest';
import { runOutcome, studyStatus } from './run-outcome';

describe('run outcomes in a study', () => {
  it("tells a livelock and a kernel profile refusal from a failure of the machine by the run's stoppedBy", () => {
    expect(runOutcome({ status: 'failed', stoppedBy: 'livelock' })).toBe('livelock');
    expect(runOutcome({ status: 'failed', stoppedBy: 'refusal' })).toBe('refused');
    expect(runOutcome({ status: 'failed', stoppedBy: null })).toBe('failed');
    expect(runOutcome({ status: 'interrupted', stoppedBy: null })).toBe('interrupted');
    expect(runOutcome({ status: 'done', stoppedBy: null })).toBe('done');
  });

  it('a study is done when every run answered, failed when one was lost to the machine', () => {
    expect(studyStatus(['done', 'livelock', 'refused'])).toBe('done');
    expect(studyStatus(['done', 'running', 'refused'])).toBe('running');
    expect(studyStatus(['done', 'queued'])).toBe('running');
    expect(studyStatus(['done', 'interrupted', 'running'])).toBe('failed');
    expect(studyStatus(['done', 'failed'])).toBe('failed');
  });
});
