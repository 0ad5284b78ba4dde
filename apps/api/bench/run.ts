/**
 * `npm run bench` in apps/api: websocket stream, fan-out to 200 clients, control-plane latency, a 1 M-transaction
 * run, a sweep.
 */
import { controlPlaneBench } from './control-plane.bench';
import { fanoutBench } from './fanout.bench';
import { runBench } from './run.bench';
import { streamBench } from './stream.bench';
import { sweepBench } from './sweep.bench';

await streamBench();
await fanoutBench();
await controlPlaneBench();
await runBench();
await sweepBench();
