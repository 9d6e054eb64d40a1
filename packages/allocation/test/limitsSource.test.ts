import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { limitsFromConfigDir } from '@ds01/allocation';
import { ConfigError } from '@ds01/config';
import { afterEach, describe, expect, it } from 'vitest';

/** The lab configuration of packages/config's parity fixtures (ds01-infra's formats; see its SOURCES.md). */
const LAB = join(import.meta.dirname, '../../../packages/config/test/fixtures/ds01-infra/lab');

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function labCopy(): string {
  dir = mkdtempSync(join(tmpdir(), 'ds01-limits-'));
  cpSync(LAB, dir, { recursive: true });
  return dir;
}

describe('GPU limits from resource-limits.yaml', () => {
  it("resolves each user's limits as ds01-infra does (group, default group, unlimited admin)", async () => {
    const limits = limitsFromConfigDir(labCopy());
    expect(await limits.limitsFor('ana')).toEqual({
      quotaGpuEquivalents: 2,
      perContainerSlotCap: 2,
      allowFullGpu: true,
      holdAfterStopHours: 0.25,
      aggregateGpuLimit: 2,
    });
    expect(await limits.limitsFor('datasciencelab')).toMatchObject({
      quotaGpuEquivalents: null,
      perContainerSlotCap: null,
      holdAfterStopHours: 1,
      aggregateGpuLimit: null,
    });
    // A container without an owner gets the default group's limits.
    expect(await limits.limitsFor(null)).toEqual(await limits.limitsFor('someone-not-listed'));
  });

  it('follows an edit of the file at the next decision', async () => {
    const limits = limitsFromConfigDir(labCopy());
    expect(await limits.limitsFor('ana')).toMatchObject({ quotaGpuEquivalents: 2 });
    const file = join(dir, 'resource-limits.yaml');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(
        'max_gpu_equivalents: 2.0        # Fair-share',
        'max_gpu_equivalents: 1.5        # Fair-share',
      ),
    );
    expect(await limits.limitsFor('ana')).toMatchObject({ quotaGpuEquivalents: 1.5 });
  });

  it('refuses to decide against limits that do not validate, naming the file', async () => {
    const limits = limitsFromConfigDir(labCopy());
    const file = join(dir, 'resource-limits.yaml');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace('max_gpu_equivalents: 2.0', 'max_gpu_equivalents: lots'),
    );
    let error: unknown;
    try {
      await limits.limitsFor('ana');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('resource-limits.yaml');
  });

  it('a broken edit after valid limits keeps the last valid ones in force (a bomb cannot lift quotas)', async () => {
    const limits = limitsFromConfigDir(labCopy());
    expect(await limits.limitsFor('ana')).toMatchObject({ quotaGpuEquivalents: 2 });
    writeFileSync(
      join(dir, 'resource-limits.yaml'),
      'a: &a [x, x]\nb: [*a, *a]\ndefaults: {max_gpu_equivalents: lots}\n',
    );
    expect(await limits.limitsFor('ana')).toMatchObject({ quotaGpuEquivalents: 2 });
  });
});
