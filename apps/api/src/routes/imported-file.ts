/**
 * A file to import (an exported experiment or study) is checked in this order: its format, its version,
 * then its shape. Each refusal is a 422 that says which, so a file of another tool or of another version
 * is told as such rather than as a list of schema errors.
 */
import type { TSchema } from 'typebox';
import { HttpError } from '../plugins/errors';
import { schemaCheck, sentence } from '../plugins/schema-check';

export interface FileKind {
  /** What the sentences call it: "experiment", "study". */
  noun: string;
  format: string;
  version: number;
  /** The reason of a file whose format is not `format`: "not-an-experiment". */
  foreign: string;
  schema: TSchema;
}

/** A check of files of that kind: the file, typed, or a 422 EFORMAT / EVERSION. */
export function fileCheck<File>(kind: FileKind): (body: unknown) => File {
  const problemOf = schemaCheck(kind.schema);
  return (body) => {
    const file = body as Record<string, unknown>;
    if (file.format !== kind.format)
      throw new HttpError(
        422,
        'EFORMAT',
        `not an iommu-lab ${kind.noun} file: "format" must be "${kind.format}".`,
        kind.foreign,
      );
    if (file.version !== kind.version)
      throw new HttpError(
        422,
        'EVERSION',
        `${kind.noun} file version ${JSON.stringify(file.version)} is not supported; this server reads version ${kind.version}.`,
        typeof file.version === 'number' && file.version < kind.version ? 'too-old' : 'unknown-version',
      );
    const problem = problemOf(file);
    if (problem)
      throw new HttpError(
        422,
        'EFORMAT',
        sentence(`the ${kind.noun} file's ${problem.path} ${problem.detail}`),
        'malformed',
        problem.path,
      );
    return file as File;
  };
}
