import { describe, expect, it } from 'vitest';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { FailNthBody, FailNthQuery, PageRequestBody } from './injection';

const check = (schema: TSchema, value: unknown) => Compile(schema).Check(value);

describe('fault injection on the wire', () => {
  const request = { prgIndex: 7, access: { read: true }, address: '0x7f0000000000', last: true };

  it('a page request names a 9-bit PRG index, a 20-bit PASID or null, and hex page address', () => {
    expect(check(PageRequestBody, request)).toBe(true);
    expect(check(PageRequestBody, { ...request, pasid: null })).toBe(true);
    expect(check(PageRequestBody, { ...request, pasid: 2 ** 20 - 1, stopMarker: false })).toBe(true);
    for (const bad of [
      { ...request, prgIndex: 512 },
      { ...request, pasid: 2 ** 20 },
      { ...request, address: 4096 },
      { ...request, last: undefined },
    ])
      expect(check(PageRequestBody, bad), JSON.stringify(bad)).toBe(false);
  });

  it('a page request body and its access flags are closed: a misspelt field is refused, not ignored', () => {
    expect(check(PageRequestBody, { ...request, lats: true })).toBe(false);
    expect(check(PageRequestBody, { ...request, access: { raed: true } })).toBe(false);
  });

  it('fail-nth takes one of its kinds and an n from 1', () => {
    expect(check(FailNthBody, { kind: 'fault-queue-slot', n: 1 })).toBe(true);
    expect(check(FailNthBody, { kind: 'iotlb', n: 1 })).toBe(false);
    expect(check(FailNthBody, { kind: 'group', n: 0 })).toBe(false);
    expect(check(FailNthQuery, {})).toBe(true);
    expect(check(FailNthQuery, { kind: 'pasids' })).toBe(false);
  });
});
