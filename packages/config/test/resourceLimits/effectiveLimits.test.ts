import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  activeExemption,
  allocationLimits,
  effectiveLimits,
  loadResourceLimits,
  policySnapshot,
} from '../../src/resourceLimits/index.ts';
import { fixturesDir } from './parityCases.ts';

const lab = loadResourceLimits(join(fixturesDir, 'lab'));

describe('effective limits beyond the JSON of get_resource_limits.py', () => {
  it('gives the allocator quota, per-container cap, full-GPU permission, hold and group limit', () => {
    expect(allocationLimits(effectiveLimits(lab, 'ana'))).toEqual({
      quotaGpuEquivalents: 2,
      perContainerSlotCap: 2,
      allowFullGpu: true,
      holdAfterStopHours: 0.25,
      aggregateGpuLimit: 2,
    });
    // admin: null (unlimited) quota and cap, no aggregate section at all
    expect(allocationLimits(effectiveLimits(lab, 'datasciencelab'))).toEqual({
      quotaGpuEquivalents: null,
      perContainerSlotCap: null,
      allowFullGpu: true,
      holdAfterStopHours: 1,
      aggregateGpuLimit: null,
    });
  });

  it('an override replaces the group limits but the aggregate and policies still come from the group', () => {
    const limits = effectiveLimits(lab, '204214@hertie-school.lan');
    expect(limits).toMatchObject({ group: 'override', memberOf: 'researcher', matchedBy: 'override' });
    expect(limits.max_cpus).toBe(32); // the defaults', not researcher's 48
    expect(limits.idle_timeout_h).toBeNull();
    expect(limits.aggregate?.cpu_quota).toBe('24000%'); // researcher's
    expect(limits.policies.idle_detection_window).toBe(4); // researcher's
    expect(limits.sources.idle_timeout_h).toMatchObject({
      layer: 'user-overrides.yaml: 204214@hertie-school.lan',
      line: 5,
    });
    expect(limits.sources.max_cpus).toMatchObject({ layer: 'defaults', key: 'max_cpus', line: 50 });
  });

  it("an override's own aggregate wins; its unlimited quota reads null", () => {
    const limits = effectiveLimits(lab, 'gpu_whale');
    expect(limits.aggregate).toEqual({
      cpu_quota: '6400%',
      memory_max: '256G',
      memory_high: '230G',
      tasks_max: 65536,
      gpu_limit: 3,
    });
    expect(allocationLimits(limits)).toMatchObject({
      quotaGpuEquivalents: null,
      aggregateGpuLimit: 3,
      holdAfterStopHours: null,
    });
  });

  it('a user found through the sanitized name, and one in the default group', () => {
    expect(effectiveLimits(lab, 'j.doe@hertie-school.lan')).toMatchObject({
      group: 'researcher',
      matchedBy: 'members',
    });
    expect(effectiveLimits(lab, 'nobody')).toMatchObject({
      group: 'student',
      matchedBy: 'default group',
      cgroupParent: 'ds01-student-nobody.slice',
    });
  });

  it('a shadowed legacy alias has no effect (defaults.max_gpu_equivalents is read first)', () => {
    const limits = effectiveLimits(lab, 'legacy_user');
    expect(limits.max_gpu_equivalents).toBe(1);
    expect(limits.sources.max_gpu_equivalents).toMatchObject({
      layer: 'defaults',
      key: 'max_gpu_equivalents',
    });
    expect(lab.warnings.map((w) => w.key)).toContain('legacy_user.max_mig_instances');
  });
});

describe('lifecycle exemptions', () => {
  const now = new Date('2026-07-01T00:00:00Z');
  it('permanent, temporary and expired exemptions, by exact username', () => {
    expect(activeExemption(lab, '204214@hertie-school.lan', 'idle_timeout_h', now)).toMatchObject({
      exempt: true,
      until: null,
      reason: 'Permanent exemption: Long-running training, approved by the lab',
    });
    expect(activeExemption(lab, 'ana', 'max_runtime_h', now)).toMatchObject({
      exempt: true,
      reason: 'Temporary exemption until 2099-12-31T23:59:59Z: Course project',
    });
    expect(activeExemption(lab, 'ana', 'idle_timeout_h', now)).toEqual({ exempt: false });
    expect(activeExemption(lab, 'sam', 'idle_timeout_h', now)).toEqual({ exempt: false });
    expect(activeExemption(lab, 'sam', 'idle_timeout_h', new Date('2025-02-01T00:00:00Z')).exempt).toBe(true);
    expect(activeExemption(lab, '204214', 'idle_timeout_h', now)).toEqual({ exempt: false });
  });
});

describe('policySnapshot', () => {
  it('is plain JSON with members resolved to the group that counts', () => {
    const snapshot = policySnapshot(lab);
    expect(JSON.parse(JSON.stringify(snapshot))).toEqual(snapshot);
    expect(snapshot['members']).toMatchObject({ sam: 'student', lee: 'faculty', j_doe: 'researcher' });
    expect(snapshot['default_group']).toBe('student');
    expect((snapshot['user_overrides'] as Record<string, unknown>)['gpu_whale']).toMatchObject({
      max_gpu_equivalents: null,
    });
  });
});
