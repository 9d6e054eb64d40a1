import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  anyText,
  billionLaughs,
  check,
  mutationOf,
  resultOrTypedError,
  yamlish,
} from '../../../test/support/fuzz.ts';
import { Ds01Yaml } from '../src/ds01Config.ts';
import { ConfigError, parseYaml } from '../src/yamlFile.ts';

const FILE = '/etc/ds01/ds01.yaml';
/** The shipped example, the ds01.yaml a lab starts from. */
const shipped = readFileSync(join(import.meta.dirname, '..', '..', '..', 'config', 'ds01.yaml'), 'utf8');

/** A refusal is a ConfigError whose every problem names the file and a line (0: the file as a whole). */
function isConfigError(error: unknown): boolean {
  return (
    error instanceof ConfigError &&
    error.problems.length > 0 &&
    error.problems.every((p) => p.file === FILE && Number.isInteger(p.line) && p.line >= 0)
  );
}

function readsOrRefuses(text: string): void {
  const outcome = resultOrTypedError(() => parseYaml(text, FILE, Ds01Yaml), isConfigError, text);
  if ('value' in outcome) expect(Ds01Yaml.safeParse(outcome.value).success).toBe(true);
}

describe('ds01.yaml on any input (property)', () => {
  it('nested aliases (a "billion laughs") are refused naming the file and line of the first alias, not thrown', () => {
    expect(() => parseYaml(billionLaughs(4), FILE, Ds01Yaml)).toThrow(
      `${FILE}:2:10: expands aliases (*name) into too many values; write the values out instead of nesting aliases`,
    );
  });

  it('arbitrary text and bytes', () => check(anyText(), readsOrRefuses, 200));

  it("YAML-shaped text with ds01.yaml's keys, anchors and aliases", () =>
    check(
      yamlish(['host', 'data_dir', 'event_store', 'log_level', 'gpus', 'mode', 'simulated', 'url']),
      readsOrRefuses,
      200,
    ));

  it('mutations of the shipped config/ds01.yaml', () => check(mutationOf(shipped), readsOrRefuses, 200));
});
