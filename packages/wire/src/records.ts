/**
 * Byte-exact records (issue 14): the hardware descriptors, PCIe messages and kernel structs a fault
 * produced. An event or a flow carries each as its layout's id, its bytes in memory order as hex and its
 * field values; where each field sits is its layout's, served once by GET /records/layouts, so a client
 * draws the bytes with their fields labelled. The shapes are the emulator's (records/bit-layout.ts); the
 * type checks below fail the build if they ever differ.
 */
import Type, { type Static } from 'typebox';
import type { CarriedRecord, LayoutDescription } from '@iommu-lab/emulator';
import type { Agree, Same } from './common';

const Hex = Type.String({
  pattern: '^(?:[0-9a-f]{2})*$',
  'x-pattern-hint': 'bytes in memory order as lowercase hex, two digits each, no separators',
  description: 'bytes in memory order, two hex digits each',
});

export const CarriedRecordSchema = Type.Object({
  /** `<owner>.<record>`: vtd.page-request-descriptor, pcie.page-request, linux.iommu-fault, … */
  layout: Type.String(),
  hex: Hex,
  /** Each field by name: a number for a field up to 53 bits wide, `0x…` for a wider one. */
  fields: Type.Record(Type.String(), Type.Union([Type.Number(), Type.String()])),
});
export type WireRecord = Static<typeof CarriedRecordSchema>;

export const LayoutFieldSchema = Type.Object({
  name: Type.String(),
  /** The name in the source (a struct member, a GENMASK macro). */
  label: Type.String(),
  /** First bit, counted over the record's bytes as one little-endian number. */
  bit: Type.Integer({ minimum: 0 }),
  width: Type.Integer({ minimum: 1 }),
  /** Names of an enum field's values, by value. */
  values: Type.Optional(Type.Record(Type.String(), Type.String())),
});

export const LayoutDescriptionSchema = Type.Object({
  id: Type.String(),
  title: Type.String(),
  bytes: Type.Integer({ minimum: 4 }),
  /** The spec table or the kernel header and struct it follows. */
  source: Type.String(),
  fields: Type.Array(LayoutFieldSchema),
});
export type WireLayout = Static<typeof LayoutDescriptionSchema>;

export const RecordLayoutsAnswer = Type.Object({ layouts: Type.Array(LayoutDescriptionSchema) });
export type RecordLayouts = Static<typeof RecordLayoutsAnswer>;

export type RecordNamesAgree = [
  Agree<Same<keyof CarriedRecord, keyof WireRecord>>,
  Agree<Same<keyof LayoutDescription, keyof WireLayout>>,
];
