/** What the Studies view says of a built-in study before it runs, and where a finished one's report is. */
import type { StudySpec } from '@iommu-lab/client';

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
