// run.bench.ts's baseline in a process of its own, so the bare emulator's heap is not counted in the
// server process's resident memory: prints the bare emulator's transactions per second.
import { register } from 'tsx/esm/api';

register();
const { bareRate } = await import('./run.bench.ts');
process.stdout.write(String(bareRate()));
