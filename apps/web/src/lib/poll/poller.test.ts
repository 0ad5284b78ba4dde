import { describe, expect, it } from 'vitest';
import { Poller } from './poller';

/** A read that answers only when the test says so, counting reads started and in flight at once. */
function controlledRead(again: () => boolean = () => true) {
  const answers: (() => void)[] = [];
  const counts = { started: 0, inFlight: 0, mostAtOnce: 0 };
  const read = () =>
    new Promise<boolean>((resolve) => {
      counts.started++;
      counts.inFlight++;
      counts.mostAtOnce = Math.max(counts.mostAtOnce, counts.inFlight);
      answers.push(() => {
        counts.inFlight--;
        resolve(again());
      });
    });
  const answer = async () => {
    answers.shift()!();
    // Let the loop take the answer and pause (an immediate pause) before the next read.
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { read, answer, counts };
}

const noPause = () => Promise.resolve();

describe('a poller reads one request at a time while it is started', () => {
  it('starts the next read only after the last one answered', async () => {
    const { read, answer, counts } = controlledRead();
    const poller = new Poller(read, noPause);
    poller.start();
    await Promise.resolve();
    expect(counts.started).toBe(1);
    poller.start();
    await Promise.resolve();
    expect(counts.started).toBe(1);
    await answer();
    expect(counts.started).toBe(2);
    await answer();
    expect(counts.started).toBe(3);
    expect(counts.mostAtOnce).toBe(1);
    poller.stop();
  });

  it('reads no more once stopped, even when the read in flight answers', async () => {
    const { read, answer, counts } = controlledRead();
    const poller = new Poller(read, noPause);
    poller.start();
    await Promise.resolve();
    poller.stop();
    await answer();
    expect(counts.started).toBe(1);
  });

  it('started again while a read is in flight, waits for it before reading', async () => {
    const { read, answer, counts } = controlledRead();
    const poller = new Poller(read, noPause);
    poller.start();
    await Promise.resolve();
    poller.stop();
    poller.start();
    await Promise.resolve();
    expect(counts.started).toBe(1);
    await answer();
    expect(counts.started).toBe(2);
    expect(counts.mostAtOnce).toBe(1);
    poller.stop();
  });

  it('stops by itself when a read says what it reads has ended', async () => {
    let reads = 0;
    const { read, answer, counts } = controlledRead(() => ++reads < 2);
    const poller = new Poller(read, noPause);
    poller.start();
    await Promise.resolve();
    await answer();
    expect(counts.started).toBe(2);
    await answer();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(counts.started).toBe(2);
    // Ended by itself, it can be started again (a sweep shown anew reads once more).
    poller.start();
    await Promise.resolve();
    await Promise.resolve();
    expect(counts.started).toBe(3);
  });
});
