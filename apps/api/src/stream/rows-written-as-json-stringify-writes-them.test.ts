/**
 * The history's rows are written straight into a buffer (json-writer.ts), not by JSON.stringify: the text
 * must be byte for byte what JSON.stringify of the row writes, for every real event and for every kind of
 * value an event could hold, the awkward ones (-0, NaN, integers past 32 bits, escapes, UTF-8, lone
 * surrogates, nested records) above all.
 */
import { type EmulatorEvent, PRESETS, buildSystem } from '@iommu-lab/emulator';
import { describe, expect, it } from 'vitest';
import { EventTupleEncoder } from './event-tuples';
import { JsonWriter } from './json-writer';

function presetEvents(): EmulatorEvent[] {
  const events: EmulatorEvent[] = [];
  for (const preset of PRESETS) {
    const system = buildSystem(preset.config);
    system.onAny((event) => events.push(event));
    if (preset.workload) system.runWorkload(preset.workload);
    system.runUntilIdle(3_000);
  }
  return events;
}

const AWKWARD: unknown[] = [
  0,
  -0,
  1,
  -1,
  9,
  10,
  2147483647,
  -2147483648,
  2147483648,
  -2147483649,
  2 ** 53,
  1e21,
  0.1,
  -1.5e-7,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  '',
  'vf0',
  '0x7f0000000000',
  'a"b',
  'a\\b',
  'line\nbreak',
  '\u0000\u001f',
  '\u007f',
  'é',
  '😀',
  '\ud800',
  'x'.repeat(70_000),
  null,
  true,
  false,
  undefined,
  [],
  [1, 'two', null],
  { deep: { er: [null, -0] }, none: null, gone: undefined },
];

/** The rows of `events` as the writer writes them, and as JSON.stringify of each row does. */
function bothWays(events: readonly EmulatorEvent[], buffer = Buffer.alloc(64)): [string, string] {
  const encoder = new EventTupleEncoder();
  const out = new JsonWriter(buffer);
  const written = encoder.beginBatch();
  for (const event of events) encoder.writeRow(event, written, out);
  const reference = new EventTupleEncoder();
  const layouts = reference.beginBatch();
  const text = events.map((event) => `${JSON.stringify(reference.row(event, layouts))},`).join('');
  expect(written).toEqual(layouts);
  return [out.bytes.toString('utf8', 0, out.at), text];
}

describe('rows are written as JSON.stringify writes them', () => {
  it('every real event, into a buffer that has to grow many times', () => {
    const [written, stringified] = bothWays(presetEvents());
    expect(written).toBe(stringified);
  });

  it('every kind of value', () => {
    const event = (value: unknown, seq: number) =>
      ({ kind: 'dma.aborted', transaction: 1, device: 'vf0', cause: value, seq, timeNs: 0 }) as EmulatorEvent;
    const [written, stringified] = bothWays(AWKWARD.map(event));
    expect(written).toBe(stringified);
  });
});
