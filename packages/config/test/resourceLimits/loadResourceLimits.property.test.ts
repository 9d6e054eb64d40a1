import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  anyText,
  check,
  mutationOf,
  resultOrTypedError,
  withoutException,
  yamlish,
} from '../../../../test/support/fuzz.ts';
import {
  configFilesFrom,
  inspectResourceLimits,
  readConfigFiles,
  resolveResourceLimits,
} from '../../src/resourceLimits/index.ts';
import { ConfigError } from '../../src/yamlFile.ts';

/** A real lab's ds01-infra configuration (fixtures/ds01-infra/SOURCES.md). */
const lab = readConfigFiles(join(import.meta.dirname, '..', 'fixtures', 'ds01-infra', 'lab'));
const names = [...lab.texts.keys()];

/** The lab's files with one of them (picked by index) replaced. */
function labWith(index: number, text: string) {
  const texts = Object.fromEntries(lab.texts);
  texts[names[index % names.length]!] = text;
  return configFilesFrom(lab.dir, texts);
}

/**
 * inspectResourceLimits never throws and locates every problem in one of the files; resolve gives
 * the limits or a ConfigError carrying exactly the errors.
 */
function inspectsAndResolves(files: ReturnType<typeof labWith>): void {
  const { problems } = withoutException(() => inspectResourceLimits(files), files.texts);
  const known = new Set([...names.map((name) => join(lab.dir, name)), lab.dir]);
  for (const p of problems) {
    expect(known.has(p.file) || p.file.startsWith(join(lab.dir, 'groups')), `${p.file}: ${p.message}`).toBe(
      true,
    );
    expect(Number.isInteger(p.line) && p.line >= 0 && Number.isInteger(p.column) && p.column >= 0).toBe(true);
    expect(p.message).not.toBe('');
  }
  resultOrTypedError(
    () => resolveResourceLimits(files),
    (error) => error instanceof ConfigError && error.problems.length > 0,
    files.texts,
  );
}

describe("ds01-infra's resource limits on any input (property)", () => {
  it('one file of a real lab replaced by arbitrary text', () =>
    check(
      fc.tuple(fc.nat(), anyText()).map(([i, text]) => labWith(i, text)),
      inspectsAndResolves,
      40,
    ));

  it('one file of a real lab replaced by YAML-shaped text with its keys, anchors and aliases', () =>
    check(
      fc
        .tuple(
          fc.nat(),
          yamlish([
            'defaults',
            'groups',
            'default_group',
            'max_gpu_equivalents',
            'max_cpus',
            'members',
            'user_overrides',
          ]),
        )
        .map(([i, text]) => labWith(i, text)),
      inspectsAndResolves,
      40,
    ));

  it('mutations of one file of a real lab', () =>
    check(
      fc
        .nat()
        .chain((i) => mutationOf(lab.texts.get(names[i % names.length]!)!).map((text) => labWith(i, text))),
      inspectsAndResolves,
      40,
    ));
});
