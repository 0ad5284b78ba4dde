/**
 * Checks a value against a wire schema outside Fastify's own validation (websocket messages, imported
 * files, configs the server assembles): null when it conforms, else where and what is wrong, worded as
 * every other validation error.
 */
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { explainSchemaErrors, type SchemaError } from '@iommu-lab/emulator';

/** A problem's message ends with one full stop, or with the question a suggestion asks. */
export { sentence } from '@iommu-lab/emulator';

export type SchemaProblem = { path: string; detail: string } | null;

export function schemaCheck(schema: TSchema): (value: unknown) => SchemaProblem {
  const compiled = Compile(schema);
  return (value) =>
    compiled.Check(value)
      ? null
      : explainSchemaErrors(compiled.Errors(value) as unknown as SchemaError[], schema);
}
