/** `npm run bench` in apps/api: the websocket stream, then control-plane latency. */
import { controlPlaneBench } from './control-plane.bench';
import { streamBench } from './stream.bench';

await streamBench();
await controlPlaneBench();
