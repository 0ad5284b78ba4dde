import { describe, expect, it } from 'vitest';
import type { StudyRunView } from '@iommu-lab/client';
import { downloadUrl, firstParagraph, fullSizeRuns, ranFrom, ranStudy, refKey } from './study-summary';

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

describe('which listed study a study run ran', () => {
  const ran = (study: StudyRunView['study']) => ({ id: 'r1', name: 'iotlb-reach', study }) as StudyRunView;

  it('a built-in by name, a saved study by id at any revision, and a study posted whole neither', () => {
    expect(ranStudy(ran({ builtin: 'iotlb-reach' }), { builtin: 'iotlb-reach' })).toBe(true);
    expect(ranStudy(ran({ builtin: 'iotlb-reach' }), { saved: 'iotlb-reach' })).toBe(false);
    expect(ranStudy(ran({ saved: 'c1', revision: 3 }), { saved: 'c1' })).toBe(true);
    expect(ranStudy(ran({ saved: 'c1', revision: 3 }), { saved: 'c2' })).toBe(false);
    // A copy of a built-in has its name, but its runs are the copy's.
    expect(ranStudy(ran({ saved: 'c1', revision: 1 }), { builtin: 'iotlb-reach' })).toBe(false);
    expect(ranStudy(ran(null), { builtin: 'iotlb-reach' })).toBe(false);
  });

  it('says what it ran, and keys each listed study apart', () => {
    expect([
      ranFrom(ran({ builtin: 'x' })),
      ranFrom(ran({ saved: 'c1', revision: 2 })),
      ranFrom(ran(null)),
    ]).toEqual(['built-in', 'saved, revision 2', 'posted whole']);
    expect(refKey({ builtin: 'iotlb-reach' })).not.toBe(refKey({ saved: 'iotlb-reach' }));
  });
});
