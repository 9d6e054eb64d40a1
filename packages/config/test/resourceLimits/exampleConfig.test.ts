import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { effectiveLimits, inspectResourceLimits, readConfigFiles } from '../../src/resourceLimits/index.ts';

/** The example configuration shipped in config/ (what a fresh checkout runs with) stays valid. */
const exampleDir = join(import.meta.dirname, '..', '..', '..', '..', 'config');

describe('the example configuration in config/', () => {
  it('has no errors and no warnings', () => {
    const { config, problems } = inspectResourceLimits(readConfigFiles(exampleDir));
    expect(problems).toEqual([]);
    expect(config?.groups.map((g) => g.name)).toEqual(['student', 'researcher', 'admin']);
  });

  it('gives a user in no members list the student limits', () => {
    const { config } = inspectResourceLimits(readConfigFiles(exampleDir));
    expect(effectiveLimits(config!, 'someone')).toMatchObject({
      group: 'student',
      max_gpu_equivalents: 2,
      max_gpu_slots_per_container: 2,
      allow_full_gpu: true,
    });
  });
});
