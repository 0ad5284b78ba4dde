/** `npm run bench` in this package: every emulator benchmark, one after another on one core. */
import { benchDma } from './dma.bench';
import { benchTranslate } from './translate.bench';

console.log('emulator benchmarks (ops/s; ratio = value / baseline measured in the same run)');
await benchTranslate();
await benchDma();
