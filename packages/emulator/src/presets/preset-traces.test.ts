/**
 * Every preset's run, byte for byte: the sha256 of its event trace (each event's JSON, in order) and of its
 * final metrics, against preset-traces.json. The emulator is deterministic, so a change that is meant to
 * keep behaviour (the allocation-free fault path, say) must leave every line of that file as it is; a change
 * meant to alter behaviour (a fidelity fix) updates it in its own commit, saying what moved:
 *
 *     UPDATE_PRESET_TRACES=1 npx vitest run src/presets/preset-traces.test.ts
 *
 * The metrics are taken from a second run with no listener, so that a trace observed and one not observed
 * are held to the same result (emitters skip building events nobody listens to).
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PRESETS, startPreset } from './presets';

const FILE = new URL('./preset-traces.json', import.meta.url);
const UPDATE = process.env.UPDATE_PRESET_TRACES === '1';

interface Trace {
  events: number;
  trace: string;
  metrics: string;
}

function traceOf(id: string): Trace {
  const preset = PRESETS.find((each) => each.id === id)!;
  const observed = startPreset(preset);
  const hash = createHash('sha256');
  let events = 0;
  observed.system.onAny((event) => {
    hash.update(JSON.stringify(event));
    hash.update('\n');
    events++;
  });
  observed.system.runUntilIdle();
  const quiet = startPreset(preset);
  quiet.system.runUntilIdle();
  const metrics = JSON.stringify(quiet.system.metrics());
  expect(JSON.stringify(observed.system.metrics()), `${id}: observed and unobserved runs agree`).toBe(
    metrics,
  );
  return { events, trace: hash.digest('hex'), metrics: createHash('sha256').update(metrics).digest('hex') };
}

describe('preset traces, byte for byte', () => {
  const recorded = JSON.parse(readFileSync(FILE, 'utf8')) as Record<string, Trace>;
  const now: Record<string, Trace> = {};
  for (const preset of PRESETS)
    it(`${preset.id}: the same events and metrics as recorded`, () => {
      now[preset.id] = traceOf(preset.id);
      if (UPDATE) return;
      expect(now[preset.id]).toEqual(recorded[preset.id]);
    }, 60_000);
  // Last, once every preset ran: checks the file's list, or rewrites the file under UPDATE_PRESET_TRACES=1.
  it('records every preset, and nothing else', () => {
    if (UPDATE) writeFileSync(FILE, `${JSON.stringify(now, null, 2)}\n`);
    else expect(Object.keys(recorded).sort()).toEqual(PRESETS.map((preset) => preset.id).sort());
  });
});
