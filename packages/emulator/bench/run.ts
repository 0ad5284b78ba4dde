/** `npm run bench` in this package: every emulator benchmark, one after another on one core. */
import { benchDma } from './dma.bench';
import { benchFaults } from './faults.bench';
import { benchScale } from './scale.bench';
import { benchSvaBinds } from './sva-binds.bench';
import { benchTranslate } from './translate.bench';

console.log(
  'emulator benchmarks: median of the runs (min–max), baseline measured between them, ratio = value / baseline',
);
// The fault path first: it builds the largest systems, and the others leave the heap warm and full.
await benchFaults();
await benchTranslate();
benchDma();
// The lab at the design's scale, each run in a fresh child process (its RSS is the lab's alone).
await benchScale();
// Last: it builds 64 k processes and leaves the heap the fullest.
await benchSvaBinds();
