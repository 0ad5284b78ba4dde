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

/** A pointer's keys, unescaped (RFC 6901). */
export const pointerKeys = (path: string) =>
  path
    .slice(1)
    .split('/')
    .map((key) => key.replace(/~1/g, '/').replace(/~0/g, '~'));

/**
 * Sets `value` at `path` (RFC 6901 pointer) in a copy of `config`; the parent must exist. A `*` key stands
 * for every element there, so one swept value reaches every device's PRI capacity (`*` in place of the
 * device's index).
 */
function setAt(config: unknown, path: string, value: unknown): unknown {
  const copy = structuredClone(config);
  const missing = () =>
    new ServiceError(
      'invalid',
      'EINVAL',
      `sweep path ${path} is not in the experiment's config.`,
      'no-such-path',
      path,
    );
  const set = (node: unknown, keys: string[]): void => {
    if (node === null || typeof node !== 'object') throw missing();
    const [key, ...rest] = keys as [string, ...string[]];
    const children = key === '*' ? Object.keys(node) : [key];
    if (children.length === 0) throw missing();
    for (const child of children)
      if (rest.length === 0) (node as Record<string, unknown>)[child] = value;
      else set((node as Record<string, unknown>)[child], rest);
  };
  set(copy, pointerKeys(path));
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
