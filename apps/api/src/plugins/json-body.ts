/**
 * Request bodies: JSON only, an empty body is no body (curl -H 'content-type: application/json' -X PUT …),
 * and keys that would reach an object's prototype when merged (`__proto__`, `constructor.prototype`) are
 * refused by name rather than reported as "not valid JSON", which they are.
 */
import type { FastifyInstance } from 'fastify';
import { HttpError } from './errors';

/** Where a prototype-poisoning key is (a JSON pointer ending in it), or null. */
function poisonedKey(value: unknown, path: string): string | null {
  if (value === null || typeof value !== 'object') return null;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const found = poisonedKey(value[index], `${path}/${index}`);
      if (found) return found;
    }
    return null;
  }
  // JSON.parse makes `__proto__` an own property, harmless here but not once someone spreads or merges it.
  if (Object.hasOwn(value, '__proto__')) return `${path}/__proto__`;
  const constructor = (value as Record<string, unknown>).constructor;
  if (
    Object.hasOwn(value, 'constructor') &&
    constructor !== null &&
    typeof constructor === 'object' &&
    Object.hasOwn(constructor, 'prototype')
  )
    return `${path}/constructor/prototype`;
  for (const [key, child] of Object.entries(value)) {
    const found = poisonedKey(child, `${path}/${key}`);
    if (found) return found;
  }
  return null;
}

export function registerJsonBody(app: FastifyInstance): void {
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string;
    if (text === '') return done(null, undefined);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      return done(
        new HttpError(400, 'EJSON', `the body is not valid JSON: ${(error as Error).message}.`, 'not-json'),
        undefined,
      );
    }
    // Only a body that names one of the keys (or escapes characters, which could spell one) is walked.
    if (!/__proto__|constructor|\\u/.test(text)) return done(null, parsed);
    const key = poisonedKey(parsed, '');
    if (key === null) return done(null, parsed);
    const name = key.endsWith('/prototype') ? 'constructor.prototype' : '__proto__';
    done(
      new HttpError(
        400,
        'EPROTOKEY',
        `the body has a "${name}" key at ${key}: keys that would change an object's prototype are refused.`,
        'prototype-key',
        `body${key}`,
      ),
      undefined,
    );
  });
  // Bodies are JSON only: a text/plain body would reach validation as a string ("body must be object").
  app.removeContentTypeParser('text/plain');
}
