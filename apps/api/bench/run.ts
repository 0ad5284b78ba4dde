/** `npm run bench` in apps/api: websocket stream, control-plane latency, a 1 M-transaction run, a sweep. */
import { controlPlaneBench } from './control-plane.bench';
import { runBench } from './run.bench';
import { streamBench } from './stream.bench';
import { sweepBench } from './sweep.bench';

await streamBench();
await controlPlaneBench();
await runBench();
await sweepBench();
