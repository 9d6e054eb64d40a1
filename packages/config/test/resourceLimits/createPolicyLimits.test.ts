import { join } from 'node:path';
import { CreateLimitsSchema } from '@ds01/domain';
import { describe, expect, it } from 'vitest';
import {
  createPolicyLimits,
  dockerSizeBytes,
  effectiveLimits,
  loadResourceLimits,
} from '../../src/resourceLimits/index.ts';
import { fixturesDir } from './parityCases.ts';

const lab = loadResourceLimits(join(fixturesDir, 'lab'));
const GIB = 1024 ** 3;

describe("the create policy's limits from a user's effective limits", () => {
  it.each([
    ['32g', 32 * GIB],
    ['32G', 32 * GIB],
    ['512m', 512 * 1024 ** 2],
    ['1.5g', 1.5 * GIB],
    ['16gb', 16 * GIB],
    ['2GiB', 2 * GIB],
    ['100k', 102_400],
    ['1234', 1234],
    ['1 g', GIB],
  ])('reads %s as docker does', (size, bytes) => {
    expect(dockerSizeBytes(size)).toBe(bytes);
  });

  it('refuses what docker would not read', () => {
    expect(() => dockerSizeBytes('lots')).toThrow(/not a size/);
  });

  it('gives a student of the lab fixture their per-container limits, in numbers', () => {
    const limits = effectiveLimits(lab, 'ana');
    const create = createPolicyLimits(limits);
    expect(CreateLimitsSchema.parse(create)).toEqual(create);
    expect(create).toEqual({
      max_cpus: limits.max_cpus,
      memory: dockerSizeBytes(limits.memory),
      memory_swap: dockerSizeBytes(limits.memory_swap),
      shm_size: dockerSizeBytes(limits.shm_size),
      pids_limit: limits.pids_limit,
      max_containers_per_user: limits.max_containers_per_user,
      max_gpu_slots_per_container: limits.max_gpu_slots_per_container,
    });
  });

  it('reads -1 (unlimited swap and pids) as null', () => {
    const limits = { ...effectiveLimits(lab, 'ana'), memory_swap: '-1', pids_limit: -1 };
    expect(createPolicyLimits(limits)).toMatchObject({ memory_swap: null, pids_limit: null });
    expect(createPolicyLimits({ ...limits, memory_swap: '0' })).toMatchObject({ memory_swap: null });
  });
});
