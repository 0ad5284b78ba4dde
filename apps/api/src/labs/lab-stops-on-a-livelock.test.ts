/**
 * A live lab whose workload storms its page request queue stops as a livelock, and its state says so (the
 * lab, its clock, the clock's answers), with the figures of the `fault.livelock` event, until it is reset;
 * a request waiting for the workload on a running lab answers then rather than at its wait's end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireEvent } from '@iommu-lab/wire';
import { type Running, call, startServer } from '../testing/harness';
import { overflowStormExperiment } from '../testing/overflow-storm';

const API = '/api/v1';

let server: Running;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const api = (method: string, path: string, body?: unknown) => call(server.url, method, `${API}${path}`, body);

/** A lab built as the storm experiment's system, its workload started and waited for. */
async function stormedLab(clock: 'paused' | 'max') {
  const { system, workload } = overflowStormExperiment();
  const created = await api('POST', '/labs', { config: system });
  expect(created.status).toBe(201);
  const lab = created.body.id as string;
  expect(created.body.clock.stopped).toBeNull();
  if (clock === 'max')
    expect((await api('POST', `/labs/${lab}/clock`, { action: 'run', speed: 'max' })).status).toBe(200);
  const run = await api('POST', `/labs/${lab}/workloads`, { workload, wait: true });
  return { lab, run };
}

async function livelockEvent(lab: string): Promise<WireEvent> {
  const { body } = await api('GET', `/labs/${lab}/faults?kinds=fault.livelock`);
  expect(body.events).toHaveLength(1);
  return body.events[0];
}

describe('a live lab stopped by an overflow storm says so', () => {
  it('on a paused lab: the workload answers unfinished, and the lab and its clock carry the livelock', async () => {
    const { lab, run } = await stormedLab('paused');
    expect(run.status).toBe(202);
    expect(run.body.finished).toBe(false);
    expect(run.body.metrics.system.faults.livelocks).toBe(1);

    const event = await livelockEvent(lab);
    const detail = (await api('GET', `/labs/${lab}`)).body;
    const { stopped } = detail.clock;
    expect(stopped).toMatchObject({
      reason: 'livelock',
      livelock: { iommu: 'vtd0', queue: 'PRQ', bound: 256 },
    });
    const { seq: _seq, kind: _kind, timeNs, device: _device, flow: _flow, ...figures } = event;
    expect(stopped.livelock).toEqual({ ...figures, atNs: timeNs });
    expect(stopped.livelock.lostRequests).toBeGreaterThan(256 * stopped.livelock.usefulFaults);
    expect(stopped.message).toMatch(/^livelock: page request queue overflow storm on vtd0 \(PRQ\)/);
    expect(stopped.message).toContain(`${Number(event.lostRequests).toLocaleString('en-US')} of`);
    expect(detail.clock.pendingEvents).toBe(0);

    // Every view of the lab's state says the same: the list, the clock, and the clock's answer to a step.
    const listed = (await api('GET', '/labs')).body.find((each: { id: string }) => each.id === lab);
    expect(listed.clock.stopped).toEqual(stopped);
    expect((await api('GET', `/labs/${lab}/clock`)).body.stopped).toEqual(stopped);
    const stepped = await api('POST', `/labs/${lab}/clock`, { action: 'step', steps: 10 });
    expect(stepped.body).toMatchObject({ timeNs: timeNs, stopped });

    // A reset builds the system again: it can run.
    const reset = await api('POST', `/labs/${lab}/reset`);
    expect(reset.status).toBe(200);
    expect(reset.body.clock.stopped).toBeNull();
  });

  it('on a running lab: the waiting request answers once the system stopped, with the lab saying why', async () => {
    const { lab, run } = await stormedLab('max');
    expect(run.status).toBe(202);
    expect(run.body.finished).toBe(false);
    const { clock } = (await api('GET', `/labs/${lab}`)).body;
    expect(clock.state).toBe('running');
    expect(clock.stopped.reason).toBe('livelock');
    expect(clock.stopped.livelock.atNs).toBe(run.body.timeNs);
    await api('POST', `/labs/${lab}/clock`, { action: 'pause' });
  });
});
