/**
 * Schema errors worded for people: one path and one phrase, never a regular expression. A pattern is
 * explained by the `x-pattern-hint` its schema carries (every pattern in the config and the wire schemas has
 * one, a test holds that; `x-` keeps the OpenAPI document valid), an unknown field names the field the
 * object does have that it most resembles.
 */

/** The shape of a schema error (TypeBox's, also what Fastify reports from TypeBox's compiler). */
export interface SchemaError {
  keyword: string;
  instancePath: string;
  /** JSON pointer into the schema that was checked (`#/properties/iova`). */
  schemaPath?: string;
  message: string;
  params: unknown;
}

/** What a pattern means, said as a rule with an example; shown instead of the pattern. */
export interface PatternHint {
  'x-pattern-hint'?: string;
}

/** A string schema's options with its pattern explained: `Type.String(patterned('^0x…$', 'an address is …'))`. */
export function patterned(pattern: string, hint: string): { pattern: string; 'x-pattern-hint': string } {
  return { pattern, 'x-pattern-hint': hint };
}

/**
 * The one error worth telling from a list of schema errors, as a path and a phrase. A closed object
 * reports an unknown field twice (additionalProperties, and "schema is false" at the field), the first
 * says it better; of the rest, the deepest error is the most specific. `schema` is what was checked: it
 * holds the patterns' hints and the names an unknown field may have meant.
 */
export function explainSchemaErrors(
  all: readonly SchemaError[],
  schema?: unknown,
): { path: string; detail: string } {
  const errors = all.filter((error) => error.keyword !== 'boolean');
  const deepest = errors.reduce(
    (best, error) => (error.instancePath.length > best.instancePath.length ? error : best),
    errors[0] ?? all[0]!,
  );
  // A union (an integer or a hex string, say) fails once per branch at the same place: name them all.
  const alternatives = [
    ...new Set(
      errors
        .filter((error) => error.instancePath === deepest.instancePath && error.keyword !== 'anyOf')
        .map((error) => phrase(error, schema)),
    ),
  ];
  const detail =
    deepest.keyword === 'additionalProperties' || alternatives.length <= 1
      ? phrase(deepest, schema)
      : alternatives.join(', or ');
  return { path: deepest.instancePath || '/', detail };
}

function phrase(error: SchemaError, schema: unknown): string {
  const params = error.params as { additionalProperties?: string[]; allowedValues?: unknown[] };
  switch (error.keyword) {
    case 'additionalProperties': {
      const field = params.additionalProperties?.[0] ?? '';
      const known = Object.keys(propertiesAt(schema, error.schemaPath));
      const meant = closestName(field, known);
      return `has an unknown field ${field}${meant ? `: did you mean ${meant}?` : known.length > 0 ? ` (its fields: ${known.join(', ')})` : ''}`;
    }
    case 'enum':
      return `must be one of ${(params.allowedValues ?? []).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'pattern': {
      const hint = (schemaAt(schema, error.schemaPath) as PatternHint | undefined)?.['x-pattern-hint'];
      return hint ? `is not valid: ${hint}` : 'is not in the form this field takes';
    }
    default:
      return error.message;
  }
}

/** The schema node a JSON pointer (`#/properties/a/anyOf/1`) names, or undefined. */
function schemaAt(schema: unknown, pointer: string | undefined): unknown {
  if (schema === undefined || pointer === undefined) return undefined;
  let node: unknown = schema;
  for (const part of pointer.replace(/^#\/?/, '').split('/')) {
    if (part === '') continue;
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function propertiesAt(schema: unknown, pointer: string | undefined): Record<string, unknown> {
  const node = schemaAt(schema, pointer) as { properties?: Record<string, unknown> } | undefined;
  return node?.properties ?? {};
}

/**
 * The known name a mistyped one most likely meant: one that contains it or is contained in it
 * (presetName → preset), else the nearest by edit distance within a third of its length.
 */
export function closestName(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  const containing = known.filter((k) => {
    const kl = k.toLowerCase();
    return kl.length >= 2 && (lower.includes(kl) || kl.includes(lower));
  });
  if (containing.length > 0)
    return containing.reduce((best, k) =>
      Math.abs(k.length - name.length) < Math.abs(best.length - name.length) ? k : best,
    );
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(name.length / 3)) + 1;
  for (const k of known) {
    const distance = editDistance(lower, k.toLowerCase());
    if (distance < bestDistance) {
      best = k;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** Ends a message with a full stop unless it already ends with one (or with a question). */
export function sentence(text: string): string {
  return /[.?!]$/.test(text) ? text : `${text}.`;
}
