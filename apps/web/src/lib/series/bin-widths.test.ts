import { describe, expect, it } from 'vitest';
import { BIN_WIDTHS_NS, binWidthLabel } from './bin-widths';

describe('bin widths of the live series', () => {
  it('are powers of two, so each is an exact merge of the bins a lab stores', () => {
    for (const width of BIN_WIDTHS_NS) expect(Math.log2(width) % 1).toBe(0);
  });

  it('are labelled exactly in ns, with what they are near', () => {
    expect(binWidthLabel(16_384)).toBe('16,384 ns (≈16.4 µs)');
    expect(binWidthLabel(1_048_576)).toBe('1,048,576 ns (≈1.05 ms)');
    expect(binWidthLabel(512)).toBe('512 ns');
  });
});
