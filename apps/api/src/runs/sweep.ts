/**
 * A sweep's points: the experiment config once per combination of the swept values (a JSON pointer each,
 * into a path that exists), each checked against the experiment schema before anything is saved.
 */
import { type ExperimentConfig, ExperimentConfigSchema } from '@iommu-lab/wire';
import { ServiceError } from '../plugins/errors';
import { schemaCheck, sentence } from '../plugins/schema-check';

const configProblem = schemaCheck(ExperimentConfigSchema);
export const MAX_SWEEP_RUNS = 256;

export interface SweepPoint {
  config: ExperimentConfig;
  label: string;
}

/** Sets `value` at `path` (RFC 6901 pointer) in a copy of `config`; the parent must exist. */
function setAt(config: unknown, path: string, value: unknown): unknown {
  const copy = structuredClone(config) as Record<string, unknown>;
  const keys = path
    .slice(1)
    .split('/')
    .map((key) => key.replace(/~1/g, '/').replace(/~0/g, '~'));
  let node: unknown = copy;
  for (const key of keys.slice(0, -1)) {
    node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
    if (node === undefined || node === null || typeof node !== 'object')
      throw new ServiceError(
        'invalid',
        'EINVAL',
        `sweep path ${path} is not in the experiment's config.`,
        'no-such-path',
        path,
      );
  }
  (node as Record<string, unknown>)[keys.at(-1)!] = value;
  return copy;
}

export function expandSweep(
  config: ExperimentConfig,
  parameters: { path: string; values: unknown[] }[],
): SweepPoint[] {
  const total = parameters.reduce((product, parameter) => product * parameter.values.length, 1);
  if (total > MAX_SWEEP_RUNS)
    throw new ServiceError(
      'invalid',
      'EINVAL',
      `the sweep has ${total} points; at most ${MAX_SWEEP_RUNS}.`,
      'too-many-points',
    );
  let points: SweepPoint[] = [{ config, label: '' }];
  for (const { path, values } of parameters) {
    const name = path.split('/').filter(Boolean).slice(-2).join('.');
    points = points.flatMap((point) =>
      values.map((value) => ({
        config: setAt(point.config, path, value) as ExperimentConfig,
        label: `${point.label ? `${point.label} ` : ''}${name}=${JSON.stringify(value)}`,
      })),
    );
  }
  for (const point of points) {
    const problem = configProblem(point.config);
    if (problem)
      throw new ServiceError(
        'invalid',
        'EINVAL',
        sentence(`sweep point ${point.label}: config ${problem.path} ${problem.detail}`),
        'invalid-point',
        problem.path,
      );
  }
  return points;
}
