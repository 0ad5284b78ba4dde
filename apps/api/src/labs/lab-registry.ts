/** The live labs of this server, by id. */
import { PRESETS, type SystemConfig, type SystemOptions } from '@iommu-lab/emulator';
import { ServiceError } from '../plugins/errors';
import { DEFAULT_STREAM_LIMITS } from '../stream/stream-hub';
import { Lab, type LabLimits, type LabSource } from './lab';

export interface CreateLabInput {
  name?: string;
  config?: SystemConfig;
  preset?: string;
  options?: SystemOptions;
}

export const DEFAULT_LAB_LIMITS: LabLimits = { historyEvents: 100_000, stream: DEFAULT_STREAM_LIMITS };

export class LabRegistry {
  private readonly labs = new Map<string, Lab>();
  private nextId = 1;

  constructor(
    private readonly maxLabs = 64,
    private readonly limits: LabLimits = DEFAULT_LAB_LIMITS,
  ) {}

  create(input: CreateLabInput): Lab {
    const given = [input.config, input.preset, input.options].filter((x) => x !== undefined).length;
    if (given > 1)
      throw new ServiceError(
        'invalid',
        'EINVAL',
        'give at most one of config, preset and options.',
        'ambiguous-source',
      );
    if (input.preset !== undefined && !PRESETS.some((preset) => preset.id === input.preset)) {
      throw new ServiceError(
        'not-found',
        'ENOENT',
        `no preset ${JSON.stringify(input.preset)}; GET /api/v1/presets lists them.`,
        'no-such-preset',
      );
    }
    if (this.labs.size >= this.maxLabs)
      throw new ServiceError(
        'conflict',
        'EBUSY',
        `this server already has ${this.maxLabs} labs; delete one first.`,
        'too-many-labs',
      );
    const source: LabSource =
      input.config !== undefined
        ? { kind: 'config', config: input.config }
        : input.preset !== undefined
          ? { kind: 'preset', preset: input.preset }
          : { kind: 'empty', ...(input.options ? { options: input.options } : {}) };
    const id = `lab${this.nextId}`;
    // Building validates the source: a bad config throws here, before the lab is registered.
    const lab = new Lab(id, input.name ?? id, source, this.limits);
    this.nextId++;
    this.labs.set(id, lab);
    return lab;
  }

  find(id: string): Lab | undefined {
    return this.labs.get(id);
  }

  get(id: string): Lab {
    const lab = this.labs.get(id);
    if (!lab) throw new ServiceError('not-found', 'ENOENT', `no lab ${JSON.stringify(id)}.`, 'no-such-lab');
    return lab;
  }

  list(): Lab[] {
    return [...this.labs.values()];
  }

  delete(id: string): void {
    this.get(id).close('deleted');
    this.labs.delete(id);
  }

  closeAll(): void {
    for (const lab of this.labs.values()) lab.close('server-stopping');
    this.labs.clear();
  }
}
