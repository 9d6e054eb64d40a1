import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  dockerRunArgs,
  effectiveLimits,
  loadResourceLimits,
  type ResourceLimits,
  toGetResourceLimitsJson,
} from '../../src/resourceLimits/index.ts';
import { type ParserOutput, runDs01InfraParser, unavailableReason } from './ds01InfraParser.ts';
import { expectedFile, fixturesDir, parityCases } from './parityCases.ts';

/**
 * For the same files, DS01 gives every user the limits ds01-infra's own parser gives: the output
 * of `get_resource_limits.py USER --json`, `--group` and `--docker-args` kept as fixtures (made by
 * regenerateParityFixtures.ts), and, where Python can run it, the parser itself.
 */
const expected = (name: string) =>
  (JSON.parse(readFileSync(expectedFile(name), 'utf8')) as { users: Record<string, ParserOutput> }).users;

function ds01Output(config: ResourceLimits, user: string): ParserOutput {
  const limits = effectiveLimits(config, user);
  return {
    json: toGetResourceLimitsJson(limits),
    group: limits.group,
    dockerArgs: dockerRunArgs(limits).join(' '),
  };
}

describe.each(parityCases)('limits of the $name configuration', ({ name, users }) => {
  const config = loadResourceLimits(join(fixturesDir, name));
  const fixture = expected(name);

  it('has a fixture for every user', () => {
    expect(Object.keys(fixture).sort()).toEqual([...users].sort());
  });

  it.each(users)('%s gets what get_resource_limits.py gives', (user) => {
    const ours = ds01Output(config, user);
    expect(ours).toEqual(fixture[user]);
    // Same keys in the same order: scripts may print the JSON as it comes.
    expect(Object.keys(ours.json)).toEqual(Object.keys(fixture[user]!.json));
  });
});

const reason = unavailableReason();
describe.skipIf(reason !== undefined)(
  `ds01-infra's parser itself${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    it.each(parityCases)('still prints the fixtures for the $name configuration', ({ name, users }) => {
      expect(runDs01InfraParser(join(fixturesDir, name), users)).toEqual(expected(name));
    });
  },
);
