/**
 * The iommufd fault channel: groups a VMM reads and answers per second over the binary websocket (read 16
 * groups, answer them, again), against the same reads and writes on the fault object in the server's own
 * process (the file's work without the socket). The client runs in the bench's process, as the server does:
 * the figure is the channel's cost on one machine, both ends counted. Faults are made before each timed
 * round (512 one-page groups waiting on a paused lab) and answered INVALID, so every DMA ends.
 */
import { reportRuns, interleave } from '@iommu-lab/bench-report';
import type { FaultQueue, System } from '@iommu-lab/emulator';
import { WebSocket } from 'ws';
import { type BenchServer, benchServer } from './bench-server';

const GROUPS = 512;
const PER_READ = 16;
const PGFAULT = 40;
const ROUNDS = 5;
const FAULT_ID_VALID = 1 << 2;
const IOMMUFD_PAGE_RESP_INVALID = 1;

interface Vmm {
  system: System;
  queue: FaultQueue;
  faultId: number;
  lab: string;
  round: number;
}

async function vmm(app: BenchServer): Promise<Vmm> {
  const post = async (url: string, payload: unknown) => {
    const answer = await app.inject({ method: 'POST', url: `/api/v1${url}`, payload: payload as object });
    if (answer.statusCode >= 300) throw new Error(`${url}: ${answer.body}`);
    return answer.json() as Record<string, number> & { id: string };
  };
  const { id: lab } = await post('/labs', {});
  await post(`/labs/${lab}/iommus`, { id: 'iommu0', family: 'vtd', profile: 'mainline' });
  await post(`/labs/${lab}/devices`, { id: 'vf0', iommu: 'iommu0', ats: true, pri: { capacity: GROUPS } });
  const { devId } = await post(`/labs/${lab}/iommufd/devices`, { device: 'vf0' });
  const { ioasId } = await post(`/labs/${lab}/iommufd/ioas`, {});
  const { faultId } = await post(`/labs/${lab}/iommufd/faults`, {});
  const { hwptId } = await post(`/labs/${lab}/iommufd/hwpts`, {
    devId,
    ptId: ioasId,
    flags: FAULT_ID_VALID,
    faultId,
  });
  await post(`/labs/${lab}/iommufd/attach`, { devId, ptId: hwptId });
  const system = app.labs.get(lab).system;
  return { system, queue: system.iommufd.faultQueue(faultId!), faultId: faultId!, lab, round: 0 };
}

/** GROUPS one-page groups waiting to be read, at pages no round used before. */
function makeFaults(v: Vmm): void {
  const base = v.round++ * GROUPS;
  for (let i = 0; i < GROUPS; i++)
    v.system.dma({
      device: 'vf0',
      address: `0x${((base + i) * 0x1000).toString(16)}`,
      length: 8,
      access: 'read',
    });
  v.system.runUntilIdle();
  if (v.queue.readable() !== GROUPS) throw new Error(`${v.queue.readable()} groups waiting, not ${GROUPS}`);
}

/** INVALID to every group of a read's records (one record per group here). */
function responsesFor(records: Uint8Array): Uint8Array {
  const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
  const out = new Uint8Array((records.length / PGFAULT) * 8);
  const write = new DataView(out.buffer);
  for (let i = 0; i < records.length / PGFAULT; i++) {
    write.setUint32(i * 8, view.getUint32(i * PGFAULT + 36, true), true);
    write.setUint32(i * 8 + 4, IOMMUFD_PAGE_RESP_INVALID, true);
  }
  return out;
}

/** The channel as a VMM uses it: each call waits for its answer. */
function channel(url: string): Promise<{ call(data: string | Uint8Array): Promise<Buffer>; close(): void }> {
  const socket = new WebSocket(url);
  const waiting: ((frame: Buffer) => void)[] = [];
  let hello = true;
  socket.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary) {
      const message = JSON.parse(String(data)) as { type: string };
      if (hello || message.type === 'readable') return void (hello = false);
      if (message.type !== 'written') throw new Error(`channel: ${String(data)}`);
    }
    waiting.shift()?.(data);
  });
  return new Promise((resolve, reject) =>
    socket.once('error', reject).once('open', () =>
      resolve({
        call: (data) =>
          new Promise<Buffer>((answer) => {
            waiting.push(answer);
            socket.send(data, { binary: typeof data !== 'string' });
          }),
        close: () => socket.close(),
      }),
    ),
  );
}

export async function iommufdBench(): Promise<void> {
  const app = await benchServer();
  const base = (await app.listen({ host: '127.0.0.1', port: 0 })).replace('http', 'ws');
  const overSocket = await vmm(app);
  const inProcess = await vmm(app);
  const fd = await channel(
    `${base}/api/v1/labs/${overSocket.lab}/iommufd/faults/${overSocket.faultId}/channel`,
  );
  const read = JSON.stringify({ op: 'read', count: PER_READ * PGFAULT });

  const socketRound = async () => {
    makeFaults(overSocket);
    const start = process.hrtime.bigint();
    for (let answered = 0; answered < GROUPS;) {
      const records = new Uint8Array(await fd.call(read));
      await fd.call(responsesFor(records));
      answered += records.length / PGFAULT;
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    overSocket.system.runUntilIdle();
    return GROUPS / seconds;
  };
  const processRound = () => {
    makeFaults(inProcess);
    const start = process.hrtime.bigint();
    for (let answered = 0; answered < GROUPS;) {
      const records = inProcess.queue.read(PER_READ * PGFAULT);
      inProcess.queue.write(responsesFor(records));
      answered += records.length / PGFAULT;
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    inProcess.system.runUntilIdle();
    return GROUPS / seconds;
  };
  // One unreported round of each warms the JIT.
  await socketRound();
  processRound();
  reportRuns({
    name: 'iommufd-channel-groups',
    unit: 'groups/s',
    ...(await interleave(ROUNDS, socketRound, processRound)),
    better: 'higher',
    note: `${GROUPS} one-page groups a run read ${PER_READ} at a time and answered INVALID over the websocket (client in the same process); baseline: the same read() and write() on the fault object in process`,
  });
  fd.close();
  await app.close();
}
