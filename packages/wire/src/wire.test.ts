import { describe, expect, it } from 'vitest';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { PRESETS } from '@iommu-lab/emulator';
import * as wire from './index';

const check = (schema: TSchema, value: unknown) => Compile(schema).Check(value);

describe('wire schemas', () => {
  it('every exported schema compiles to a validator (they feed Fastify, OpenAPI and the client)', () => {
    const schemas = Object.entries(wire).filter(
      ([, value]) => typeof value === 'object' && value !== null && '~kind' in value,
    );
    expect(schemas.length).toBeGreaterThan(30);
    for (const [name, schema] of schemas) {
      expect(() => Compile(schema as TSchema), name).not.toThrow();
    }
  });

  it('addresses on the wire are hex strings, exact to 64 bits (no floats of full addresses)', () => {
    const range = wire.RangeBody;
    expect(check(range, { address: '0xffffffffffff0000', size: 4096 })).toBe(true);
    expect(check(range, { address: 4096, size: 4096 })).toBe(false);
    expect(check(range, { address: '4096', size: 4096 })).toBe(false);
    expect(check(range, { address: '0x1ffffffffffffffff', size: 4096 })).toBe(false);
  });

  it('request bodies are closed: an unknown field is refused rather than silently ignored', () => {
    const dma = { device: 'nic0', address: '0x1000', length: 64, access: 'read' };
    expect(check(wire.DmaBody, dma)).toBe(true);
    expect(check(wire.DmaBody, { ...dma, lenght: 64 })).toBe(false);
    expect(check(wire.DmaBody, { ...dma, data: 'not base64!' })).toBe(false);
  });

  it('a lab is created from every scenario preset’s config', () => {
    for (const preset of PRESETS)
      expect(check(wire.CreateLabBody, { config: preset.config }), preset.id).toBe(true);
  });

  it('the stream accepts subscribe, respond and ping, and nothing else', () => {
    const ok = [
      { type: 'subscribe', filter: { devices: ['nic0'], pasids: [1, null], stages: [2] } },
      { type: 'respond', cookie: 3, code: 'SUCCESS' },
      { type: 'ping' },
    ];
    for (const message of ok) expect(check(wire.ClientMessageSchema, message)).toBe(true);
    const bad = [
      { type: 'respond', cookie: 0, code: 'SUCCESS' },
      { type: 'respond', cookie: 1, code: 'maybe' },
      { type: 'subscribe', filter: { stages: [3] } },
      { type: 'shutdown' },
    ];
    for (const message of bad) expect(check(wire.ClientMessageSchema, message)).toBe(false);
  });

  it('clock speed is positive and bounded, or "max"', () => {
    expect(check(wire.ClockBody, { action: 'run', speed: 'max' })).toBe(true);
    expect(check(wire.ClockBody, { action: 'run', speed: 0.001 })).toBe(true);
    expect(check(wire.ClockBody, { action: 'run', speed: 0 })).toBe(false);
    expect(check(wire.ClockBody, { action: 'rewind' })).toBe(false);
  });
});
