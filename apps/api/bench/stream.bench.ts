/**
 * Websocket stream throughput: events per second one client (in its own process) receives from a lab
 * running a DMA workload as fast as it can, beside a bare `ws` server sending the same events, already
 * serialised as JSON batches, as fast as the socket drains. The lab streams in the compact `tuples`
 * encoding (the measured figure, api-ws-stream, the encoding @iommu-lab/client asks for) and in `json`
 * (api-ws-stream-json, for comparison), against the same bare runs. The reader (stream-client.mjs) ends
 * every batch as event objects: JSON.parse builds them for json batches (the bare pipe's too), and the
 * client's EventTupleDecoder builds them from tuples. Beside them, the events the same lab emits with no
 * client at all (api-ws-lab-alone): the stream can deliver no more than that, so its ratio to the bare pipe
 * is the ceiling of the others'. 3 rounds of the four, each a new server (and reader).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { reportRuns } from '@iommu-lab/bench-report';
import { type EmulatorEvent, PRESETS, buildSystem } from '@iommu-lab/emulator';
import type { StreamEncoding } from '@iommu-lab/wire';
import { benchServer, flood, presetLab, startWorkload } from './bench-server';

// Shortened from 1.5 s + 4 s (one run of each) so that 12 runs take about a minute.
const WARMUP_MS = 1000;
const MEASURE_MS = 3000;
const ROUNDS = 3;
const MiB = 1024 * 1024;
const client = fileURLToPath(new URL('./stream-client.mjs', import.meta.url));

interface Received {
  events: number;
  dropped: number;
  seconds: number;
}

/** Starts the reader; resolves when it is connected, and again (`done`) with what it counted. */
async function reader(url: string, encoding: StreamEncoding): Promise<{ done: Promise<Received> }> {
  const child = fork(client, [url, String(WARMUP_MS), String(MEASURE_MS), encoding], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk));
  const done = new Promise<Received>((resolve, reject) =>
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as Received) : reject(new Error(`reader exited ${code}`)),
    ),
  );
  // A reader that exits before it connects fails the bench here rather than leaving it waiting.
  await Promise.race([new Promise<void>((resolve) => child.once('message', () => resolve())), done]);
  return { done }; // wrapped: an async function returning a bare promise would wait for it
}

async function labStream(encoding: StreamEncoding): Promise<Received> {
  const app = await benchServer();
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const lab = await presetLab(app);
  await startWorkload(app, lab, flood);
  const { done } = await reader(`${base.replace('http', 'ws')}/api/v1/labs/${lab}/stream`, encoding);
  await app.inject({
    method: 'POST',
    url: `/api/v1/labs/${lab}/clock`,
    payload: { action: 'run', speed: 'max' },
  });
  const received = await done;
  await app.close();
  return received;
}

/** Events per second the lab emits with no client, counted in its history as the readers count theirs. */
async function labAlone(): Promise<number> {
  const app = await benchServer();
  const lab = await presetLab(app);
  await startWorkload(app, lab, flood);
  await app.inject({
    method: 'POST',
    url: `/api/v1/labs/${lab}/clock`,
    payload: { action: 'run', speed: 'max' },
  });
  const { history } = app.labs.get(lab);
  await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
  const [fromSeq, fromMs] = [history.latestSeq, performance.now()];
  await new Promise((resolve) => setTimeout(resolve, MEASURE_MS));
  const rate = (history.latestSeq - fromSeq) / ((performance.now() - fromMs) / 1000);
  await app.close();
  return rate;
}

/** The same events a lab emits, serialised once: one batch in the hub's batch size. */
function sampleBatch(): string {
  const system = buildSystem(PRESETS.find((preset) => preset.id === 'passthrough-pinned')!.config);
  const sample: EmulatorEvent[] = [];
  system.onAny((event) => void (sample.length < 2000 && sample.push(event)));
  system.runWorkload(flood);
  system.runUntilIdle(20_000);
  return JSON.stringify({ type: 'events', events: sample, dropped: 0 });
}

/** A bare `ws` server sending `batch` whenever the socket drains. */
async function bareStream(batch: string): Promise<Received> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  server.on('connection', (socket) => {
    const raw = (socket as unknown as { _socket: NodeJS.EventEmitter })._socket;
    // A bounded number of sends a turn: while the reader keeps up, sends complete at once and never raise
    // bufferedAmount, and the reader's close is an event that an unbounded loop would never let in.
    const pump = () => {
      const room = () => socket.readyState === socket.OPEN && socket.bufferedAmount < MiB;
      for (let sent = 0; sent < 64 && room(); sent++) socket.send(batch);
      if (room()) setImmediate(pump);
    };
    raw.on('drain', pump);
    pump();
  });
  const { done } = await reader(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`, 'json');
  const received = await done;
  for (const socket of server.clients) socket.terminate();
  server.close();
  return received;
}

/** The figures, each beside the same bare runs: the lab's stream in each encoding. */
const FIGURES: { name: string; encoding: StreamEncoding }[] = [
  { name: 'api-ws-stream', encoding: 'tuples' },
  { name: 'api-ws-stream-json', encoding: 'json' },
];

export async function streamBench(): Promise<void> {
  const batch = sampleBatch();
  const measured = FIGURES.map((figure) => ({ ...figure, runs: [] as number[], received: 0, dropped: 0 }));
  const baselineRuns: number[] = [];
  const aloneRuns: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    aloneRuns.push(await labAlone());
    for (const figure of measured) {
      const lab = await labStream(figure.encoding);
      figure.runs.push(lab.events / lab.seconds);
      figure.received += lab.events;
      figure.dropped += lab.dropped;
    }
    const bare = await bareStream(batch);
    baselineRuns.push(bare.events / bare.seconds);
  }
  for (const { name, encoding, runs, received, dropped } of measured)
    reportRuns({
      name,
      unit: 'events/s',
      runs,
      baselineRuns,
      better: 'higher',
      note: `${encoding} encoding, one client, ${MEASURE_MS / 1000} s a run; lab at "max" speed; ${received} events received and ${dropped} dropped for the client by the slow-consumer policy (and told) across the runs`,
    });
  reportRuns({
    name: 'api-ws-lab-alone',
    unit: 'events/s',
    runs: aloneRuns,
    baselineRuns,
    better: 'higher',
    note: 'the same lab at "max" speed with no client: what a stream could deliver at most',
  });
}
