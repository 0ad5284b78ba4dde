/** The `iommu-lab` executable (bin/iommu-lab.mjs registers tsx, then imports this). */
import { runCli } from './program';

const code = await runCli(process.argv);
// Let stdout drain (a pipe may be behind), then leave even if a socket or keep-alive lingers.
await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
process.exit(code);
