/**
 * The system an experiment describes, built with a run's seed and its handler policy in place (groups
 * left to an outside handler answered at once, as the policy says). Runs and traces both start here, so
 * a trace replays exactly what its run did.
 */
import { type System, buildSystem } from '@iommu-lab/emulator';
import type { ExperimentConfig } from '@iommu-lab/wire';

export function experimentSystem(config: ExperimentConfig, seed: number): System {
  const system = buildSystem({ ...config.system, options: { ...config.system.options, seed } });
  const answer = config.policy?.externalResponse;
  if (answer)
    system.on('fault.awaiting-client', (e) =>
      system.schedule(system.nowNs, () => system.respondToFault(e.cookie, answer)),
    );
  return system;
}
