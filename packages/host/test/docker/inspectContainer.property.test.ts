import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isoInstant } from '@ds01/domain';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { anyText, check, mutationOf, resultOrTypedError } from '../../../../test/support/fuzz.ts';
import { DockerAnswerError, parseInspect } from '../../src/docker/index.ts';

const where = { host: 'unix:///run/test.sock' };
/** The real `docker inspect` captures the domain's tests use (SOURCES.md beside them). */
const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'domain', 'test', 'containers', 'fixtures');
const captures = ['inspect-plain.json', 'inspect-exited.json'].map((file) =>
  readFileSync(join(FIXTURES, file), 'utf8'),
);

function isAnswerError(error: unknown): boolean {
  return (
    error instanceof DockerAnswerError && error.call === 'GET /containers/abc/json' && error.field !== ''
  );
}

/** An answer gives an inspect whose times the domain can read, or a refusal naming the field. */
function inspectOrRefusal(raw: unknown): void {
  const outcome = resultOrTypedError(() => parseInspect(where, 'abc', raw), isAnswerError, raw);
  if (!('value' in outcome)) return;
  const { Created, State } = outcome.value;
  for (const time of [Created, State.StartedAt, State.FinishedAt]) isoInstant(time);
}

/** The JSON with the value at one path (picked by `pick`) replaced: a field missing, null, mistyped. */
function replaceOne(document: unknown, pick: number, replacement: unknown): unknown {
  const paths: (string | number)[][] = [];
  const walk = (value: unknown, path: (string | number)[]) => {
    paths.push(path);
    if (value && typeof value === 'object')
      for (const [key, child] of Object.entries(value))
        walk(child, [...path, Array.isArray(value) ? Number(key) : key]);
  };
  walk(document, []);
  const path = paths[pick % paths.length]!;
  if (path.length === 0) return replacement;
  const copy = structuredClone(document) as Record<string | number, unknown>;
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  if (replacement === undefined) delete parent[last];
  else parent[last] = replacement;
  return copy;
}

describe('docker inspect answers on any input (property)', () => {
  it('any JSON value', () => check(fc.jsonValue(), inspectOrRefusal, 200));

  it.each(captures.map((text, i) => [i, text]))(
    'one field of real capture #%i replaced by anything',
    (_i, text) => {
      const document = JSON.parse(text) as unknown;
      check(
        fc
          .tuple(fc.nat(), fc.oneof(fc.jsonValue(), fc.constant(undefined), anyText(30)))
          .map(([pick, replacement]) => replaceOne(document, pick, replacement)),
        inspectOrRefusal,
        200,
      );
    },
  );

  it.each(captures.map((text, i) => [i, text]))('text mutations of real capture #%i', (_i, text) => {
    check(
      mutationOf(text).map((mutated) => {
        try {
          return JSON.parse(mutated) as unknown;
        } catch {
          return mutated; // not JSON any more: the daemon's client would hand over the text
        }
      }),
      inspectOrRefusal,
      150,
    );
  });
});
