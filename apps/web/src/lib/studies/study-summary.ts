/**
 * What the Studies view says of a study before it runs, which listed study a study run ran, and where a
 * finished one's report is.
 */
import type { StudyRunView, StudySpec } from '@iommu-lab/client';

/** The description's first paragraph (paragraphs are separated by a blank line, as the report splits them). */
export function firstParagraph(description: string): string {
  return description
    .trim()
    .split(/\n\s*\n/)[0]!
    .trim();
}

/** The runs of a study at full size: every swept value against every other, once per experiment. */
export function fullSizeRuns(spec: Pick<StudySpec, 'experiments' | 'parameters'>): number {
  return spec.parameters.reduce((runs, parameter) => runs * parameter.values.length, spec.experiments.length);
}

/** The report as a file to save: the API sends it as an attachment when asked with ?download=1. */
export function downloadUrl(reportUrl: string): string {
  return `${reportUrl}?download=1`;
}

/** A study the view lists: a built-in by name, or a saved study by id. */
export type StudyRef = { builtin: string } | { saved: string };

/** One key per listed study, for what the view keeps by study (Run requests, refusals). */
export function refKey(ref: StudyRef): string {
  return 'builtin' in ref ? `builtin:${ref.builtin}` : `saved:${ref.saved}`;
}

/** Whether the study run ran that study (any revision of a saved one). */
export function ranStudy(run: StudyRunView, ref: StudyRef): boolean {
  if (run.study === null) return false;
  return 'builtin' in ref
    ? 'builtin' in run.study && run.study.builtin === ref.builtin
    : 'saved' in run.study && run.study.saved === ref.saved;
}

/** What a study run ran, as its row says it. */
export function ranFrom(run: StudyRunView): string {
  if (run.study === null) return 'posted whole';
  return 'builtin' in run.study ? 'built-in' : `saved, revision ${run.study.revision}`;
}
