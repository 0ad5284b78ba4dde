import { describe, expect, it } from 'vitest';
import { downloadUrl, firstParagraph, fullSizeRuns } from './study-summary';

describe('a built-in study as the Studies view lists it', () => {
  it('shows the first paragraph of its description', () => {
    expect(firstParagraph('What it runs.\n\nWhat it shows.\n\nSources.')).toBe('What it runs.');
    expect(firstParagraph('  One paragraph only.\n')).toBe('One paragraph only.');
    // A blank line with spaces in it still ends a paragraph; a single newline does not.
    expect(firstParagraph('Line one\nline two\n  \nNext.')).toBe('Line one\nline two');
  });

  it('counts its runs at full size: experiments × the product of the value counts', () => {
    const values = (n: number) => ({ values: Array.from({ length: n }, (_, i) => i) });
    const experiments = [{}, {}] as never[];
    // iotlb-reach: 2 experiments × 5 IOTLB sizes × 3 working sets.
    expect(fullSizeRuns({ experiments, parameters: [values(5), values(3)] as never[] })).toBe(30);
    expect(fullSizeRuns({ experiments, parameters: [] })).toBe(2);
  });

  it('asks for the report as a download with ?download=1', () => {
    expect(downloadUrl('/api/v1/studies/runs/s1/report')).toBe('/api/v1/studies/runs/s1/report?download=1');
  });
});
