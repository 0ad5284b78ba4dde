/**
 * A study's runs: each experiment once per combination of the swept values (sweep.ts's expansion, which
 * checks every point against the experiment schema). Refused with 422 and the path, before anything is
 * saved or queued: a parameter whose path is not in an experiment's config, a parameter without values,
 * more runs than MAX_STUDY_RUNS, and a chart whose axes are not the study's parameters and metrics.
 */
import { MAX_STUDY_RUNS, type StudySpec } from '@iommu-lab/wire';
import type { ExperimentConfig } from '@iommu-lab/wire';
import { ServiceError } from '../plugins/errors';
import { type SweepPoint, expandSweep } from '../runs/sweep';
import { shownValue, valueAt } from './study-values';

const refuse = (reason: string, message: string, path: string) =>
  new ServiceError('invalid', 'EINVAL', message, reason, path);

/** `set` replaces the values of the parameters it names (the CLI's --set path=v1,v2). */
export function withValues(spec: StudySpec, set: Record<string, unknown[]> = {}): StudySpec {
  const known = new Set(spec.parameters.map((parameter) => parameter.path));
  for (const path of Object.keys(set))
    if (!known.has(path))
      throw refuse('no-such-parameter', `study ${spec.name} sweeps no parameter ${path}.`, path);
  return {
    ...spec,
    parameters: spec.parameters.map((parameter) => ({
      ...parameter,
      values: set[parameter.path] ?? parameter.values,
    })),
  };
}

export interface StudyPoints {
  /** Per experiment, in the study's order, its sweep points. */
  experiments: { label: string; points: SweepPoint[] }[];
  runs: number;
}

export function expandStudy(spec: StudySpec): StudyPoints {
  for (const parameter of spec.parameters) {
    if (parameter.values.length === 0)
      throw refuse('no-values', `study parameter ${parameter.path} has no values.`, parameter.path);
    for (const experiment of spec.experiments)
      if (valueAt(experiment.config, parameter.path) === undefined)
        throw refuse(
          'no-such-path',
          `study parameter ${parameter.path} is not in the config of experiment "${experiment.label}".`,
          parameter.path,
        );
  }
  const runs = spec.experiments.length * spec.parameters.reduce((product, p) => product * p.values.length, 1);
  if (runs > MAX_STUDY_RUNS)
    throw refuse(
      'too-many-runs',
      `the study would make ${runs} runs; at most ${MAX_STUDY_RUNS}.`,
      '/parameters',
    );
  const parameters = new Set(spec.parameters.map((parameter) => parameter.path));
  const metrics = new Set(spec.metrics.map((metric) => metric.pointer));
  for (const [i, chart] of spec.charts.entries()) {
    if (!parameters.has(chart.x))
      throw refuse(
        'chart-axis',
        `chart ${i} draws x along ${chart.x}, which the study does not sweep.`,
        `/charts/${i}/x`,
      );
    if (!metrics.has(chart.y))
      throw refuse(
        'chart-axis',
        `chart ${i} draws y as ${chart.y}, which is not a metric of the study.`,
        `/charts/${i}/y`,
      );
    for (const [path, value] of Object.entries(chart.where ?? {})) {
      if (path === 'experiment') {
        if (!spec.experiments.some((experiment) => experiment.label === value))
          throw refuse(
            'chart-axis',
            `chart ${i} holds experiment ${JSON.stringify(value)}, which the study does not have.`,
            `/charts/${i}/where`,
          );
        continue;
      }
      const parameter = spec.parameters.find((p) => p.path === path);
      if (!parameter)
        throw refuse(
          'chart-axis',
          `chart ${i} holds ${path} still, which the study does not sweep.`,
          `/charts/${i}/where`,
        );
      // Held values are in the units the report shows (the parameter's scale).
      if (!parameter.values.some((v) => JSON.stringify(shownValue(parameter, v)) === JSON.stringify(value)))
        throw refuse(
          'chart-axis',
          `chart ${i} holds ${path} at ${JSON.stringify(value)}, which is not among its values: the chart would be empty.`,
          `/charts/${i}/where`,
        );
    }
    if (chart.series !== undefined && chart.series !== 'experiment' && !parameters.has(chart.series))
      throw refuse(
        'chart-axis',
        `chart ${i} draws a line per ${chart.series}, which is neither a swept parameter nor "experiment".`,
        `/charts/${i}/series`,
      );
  }
  return {
    experiments: spec.experiments.map((experiment) => ({
      label: experiment.label,
      points: expandSweep(experiment.config as ExperimentConfig, spec.parameters),
    })),
    runs,
  };
}
