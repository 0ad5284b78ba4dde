/** `npm run bench` in apps/api: the websocket stream, control-plane latency, and a 1 M-transaction run. */
import { controlPlaneBench } from './control-plane.bench';
import { runBench } from './run.bench';
import { streamBench } from './stream.bench';

await streamBench();
await controlPlaneBench();
await runBench();
