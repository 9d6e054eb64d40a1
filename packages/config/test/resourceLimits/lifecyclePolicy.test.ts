import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIFECYCLE_CONFIG, lifecyclePolicy, loadResourceLimits } from '../../src/index.ts';

const NOW = new Date('2026-03-02T09:00:00Z');
const dir = (files: Record<string, string>) => {
  const d = mkdtempSync(join(tmpdir(), 'ds01-lifecycle-policy-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
  return d;
};

const limits = loadResourceLimits(
  dir({
    'resource-limits.yaml': `
defaults: { idle_timeout_h: 0.5, max_runtime_h: 24, container_hold_after_stop_h: 0.5 }
default_group: student
groups:
  student: { members: [alice], idle_timeout_h: 2, policies: { cpu_idle_threshold: 3.5 } }
policies: { grace_period_m: 20, keepalive_max_duration_h: 12, sigterm_grace_s: 50 }
container_types:
  devcontainer: { idle_timeout_h: null, max_runtime_h: 168, sigterm_grace_s: 30 }
  docker: { idle_timeout_h: 0.5, max_runtime_h: 48, sigterm_grace_s: 60 }
  unknown: { idle_timeout_h: 0.25, max_runtime_h: 24, sigterm_grace_s: 15 }
`,
    'lifecycle-exemptions.yaml': `
exemptions:
  - { username: alice, exempt_from: [max_runtime_h], reason: thesis, expires_on: "2026-06-30T23:59:59Z" }
`,
  }),
);

describe('lifecycle policy of a container', () => {
  it("a container made by DS01 follows its owner's limits and group thresholds", () => {
    const p = lifecyclePolicy(
      limits,
      DEFAULT_LIFECYCLE_CONFIG,
      { user: 'alice', type: 'atomic', managed: true },
      NOW,
    );
    expect(p).toMatchObject({
      idleTimeoutMinutes: 120,
      maxRuntimeHours: 24,
      cpuIdleThreshold: 3.5,
      startGraceMinutes: 20,
      keepAliveMaxHours: 12,
      sigtermGraceSeconds: 50,
      containerHoldAfterStopHours: 0.5,
      warningLeadMinutes: [60, 15],
      exemptions: { idle: null, maxRuntime: 'Temporary exemption until 2026-06-30T23:59:59Z: thesis' },
    });
  });

  it('through the gateway (managed) a claimed atomic type gets exactly what docker gets: the claim decides nothing', () => {
    // The gateway labels a ds01 CLI create `atomic` on the caller's say-so (X-DS01-Interface): safe
    // only because every container it makes is managed, which already means the owner's limits.
    const of = (type: string) =>
      lifecyclePolicy(limits, DEFAULT_LIFECYCLE_CONFIG, { user: 'alice', type, managed: true }, NOW);
    expect(of('atomic')).toEqual(of('docker'));
  });

  it('raw docker and dev containers follow container_types; null idle_timeout_h is no idle retirement', () => {
    const docker = lifecyclePolicy(
      limits,
      DEFAULT_LIFECYCLE_CONFIG,
      { user: 'bob', type: 'docker', managed: false },
      NOW,
    );
    expect(docker).toMatchObject({ idleTimeoutMinutes: 30, maxRuntimeHours: 48, sigtermGraceSeconds: 60 });
    const dev = lifecyclePolicy(
      limits,
      DEFAULT_LIFECYCLE_CONFIG,
      { user: 'bob', type: 'devcontainer', managed: false },
      NOW,
    );
    expect(dev).toMatchObject({ idleTimeoutMinutes: null, maxRuntimeHours: 168, sigtermGraceSeconds: 30 });
  });

  it('a type without an entry (custom, compose here) and an unknown owner: the unknown entry', () => {
    const p = lifecyclePolicy(
      limits,
      DEFAULT_LIFECYCLE_CONFIG,
      { user: null, type: 'compose', managed: false },
      NOW,
    );
    expect(p).toMatchObject({ idleTimeoutMinutes: 15, maxRuntimeHours: 24, sigtermGraceSeconds: 15 });
  });
});
