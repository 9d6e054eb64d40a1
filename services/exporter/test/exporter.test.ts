import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserRegistered } from '@ds01/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayMetrics, startPrometheus } from '../../../test/support/prometheus.ts';
import { exporterOnLab } from './support.ts';

const NOW = new Date();
const DCGM_CAPTURE = join(
  import.meta.dirname,
  '../../../packages/host/test/fixtures/nvidia/dcgm/a30-rtx2000ada-mixed-mig-dcgm-metrics-1.txt',
);

/** The samples of a metric family in an exposition, as label sets and values. */
function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const found: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    found.push({ labels, value: Number(match[4]) });
  }
  return found;
}

describe('exporter', () => {
  let lab: Awaited<ReturnType<typeof exporterOnLab>>;
  let text: string;

  beforeAll(async () => {
    lab = await exporterOnLab(NOW);
    text = await (await fetch(`${lab.url}/metrics`)).text();
  });
  afterAll(() => lab.close());

  it("serves ds01-infra's allocation metrics with its labels", () => {
    expect(samples(text, 'ds01_gpu_allocated')).toEqual([
      {
        labels: {
          gpu_slot: '0',
          container: 'notebook._.1001',
          user: 'alice',
          interface: 'atomic',
          profile: 'full',
        },
        value: 1,
      },
      {
        labels: {
          gpu_slot: '2.0',
          container: 'notebook._.1001',
          user: 'alice',
          interface: 'atomic',
          profile: '3g.40gb',
        },
        value: 1,
      },
    ]);
    expect(samples(text, 'ds01_gpu_equivalents').map((s) => s.value)).toEqual([1, 3 / 7]);
    expect(samples(text, 'ds01_user_gpus_allocated')).toEqual([{ labels: { user: 'alice' }, value: 2 }]);
    expect(samples(text, 'ds01_user_gpu_equivalents')[0]!.value).toBeCloseTo(1 + 3 / 7, 9);
    expect(samples(text, 'ds01_containers_total')).toEqual([
      { labels: { status: 'running', interface: 'atomic' }, value: 1 },
      { labels: { status: 'running', interface: 'docker' }, value: 1 },
    ]);
    expect(samples(text, 'ds01_user_containers_count')).toEqual([
      { labels: { user: 'alice' }, value: 1 },
      { labels: { user: 'bob' }, value: 1 },
    ]);
  });

  it('serves the GPU and MIG slot mapping the DCGM joins need, and groups', () => {
    expect(samples(text, 'ds01_gpu_slot_info').map((s) => s.labels['slot'])).toEqual(['0', '1', '3']);
    expect(samples(text, 'ds01_mig_slot_info').map((s) => s.labels)).toEqual([
      { gpu: '2', gpu_i_id: '1', slot: '2.0', mig_uuid: 'MIG-20000000-aaaa-bbbb-cccc-dddddddddddd' },
      { gpu: '2', gpu_i_id: '2', slot: '2.1', mig_uuid: 'MIG-21000000-aaaa-bbbb-cccc-dddddddddddd' },
    ]);
    expect(samples(text, 'ds01_mig_mapping_status')).toEqual([
      { labels: { mapped: '2', unmapped: '0' }, value: 1 },
    ]);
    expect(samples(text, 'ds01_user_group_info').map((s) => s.labels)).toEqual([
      { user: 'alice', group: 'student' },
      { user: 'bob', group: 'researcher' },
    ]);
  });

  it('serves unmanaged GPU containers (with --gpus all counted), lifecycle actions, exact 24 h event counts', () => {
    expect(samples(text, 'ds01_unmanaged_gpu_container')).toEqual([
      {
        labels: { container: 'stray', user: 'bob', gpu_count: 'ALL', access_type: 'all', running: 'true' },
        value: 1,
      },
    ]);
    expect(samples(text, 'ds01_unmanaged_gpu_all_access')).toEqual([{ labels: {}, value: 1 }]);
    const lifecycle = Object.fromEntries(
      samples(text, 'ds01_lifecycle_events_total').map((s) => [s.labels['action'], s.value]),
    );
    expect(lifecycle).toEqual({
      idle_kill: 0,
      runtime_kill: 0,
      oom_kill: 1,
      gpu_warning: 0,
      memory_warning: 0,
      container_warning: 0,
      bare_metal_warning: 0,
    });
    const day = Object.fromEntries(
      samples(text, 'ds01_events_24h_total').map((s) => [s.labels['event_type'], s.value]),
    );
    expect(day['GpuAllocated']).toBe(2);
    expect(day['ContainerStarted']).toBe(2);
    expect(text).toContain('# TYPE ds01_lifecycle_events_total counter');
  });

  it('serves usage counters by user and group, CPU and memory, DS01 health', () => {
    const allocated = samples(text, 'ds01_gpu_allocated_seconds_total');
    // 50 min of GPU 0 and of 3/7 of GPU 2.
    expect(allocated[0]!.labels).toEqual({ user: 'alice', group: 'student' });
    expect(allocated[0]!.value).toBeCloseTo(50 * 60 * (1 + 3 / 7), 3);
    expect(samples(text, 'ds01_gpu_idle_seconds_total')[0]!.value).toBeCloseTo(300 * (3 / 7), 6);
    expect(samples(text, 'ds01_gpu_energy_joules_total')[0]!.value).toBe(120_000);
    expect(samples(text, 'ds01_gpu_allocation_denials_total')).toEqual([
      { labels: { user: 'alice', group: 'student' }, value: 0 },
      { labels: { user: 'bob', group: 'researcher' }, value: 1 },
    ]);
    expect(samples(text, 'ds01_user_cpu_usage_seconds_total')).toEqual([
      { labels: { user: 'alice', group: 'student' }, value: 150 },
    ]);
    expect(samples(text, 'ds01_user_memory_current_bytes')).toEqual([
      { labels: { user: 'alice', group: 'student' }, value: 2e9 },
    ]);
    expect(samples(text, 'ds01_host_gpu_processes_detected_total')).toEqual([
      { labels: { user: 'unknown' }, value: 1 },
    ]);
    expect(samples(text, 'ds01_docker_watcher_connected')).toEqual([{ labels: {}, value: 1 }]);
    expect(samples(text, 'ds01_projection_lag_events').every((s) => s.value === 0)).toBe(true);
    expect(samples(text, 'ds01_ssh_sessions_total')).toEqual([{ labels: {}, value: 2 }]);
    expect(
      samples(text, 'ds01_state_disk_bytes')
        .map((s) => s.labels['type'])
        .sort(),
    ).toEqual(['free', 'total', 'used']);
  });

  it('serves the usage history as JSON, and says what is wrong with a bad query', async () => {
    const body = (await (await fetch(`${lab.url}/api/v1/usage?period=7d&by=user`)).json()) as {
      rows: { key: string }[];
    };
    expect(body.rows.map((r) => r.key)).toEqual(['alice', 'bob']);
    const bad = await fetch(`${lab.url}/api/v1/usage?period=soon`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain("period 'soon'");
  });

  it("counts a view's lag in its own event types, and how old the oldest unapplied one is", async () => {
    await lab.store.append('user-carol', [
      {
        ...UserRegistered({ user: 'carol', uid: 1003, group: 'student' }),
        metadata: {
          eventId: randomUUID(),
          occurredAt: NOW.toISOString(),
          actor: { kind: 'service', name: 'test' },
          host: 'gpu01',
          correlationId: randomUUID(),
          causationId: null,
        },
      },
    ]);
    await lab.exporter.refresh();
    const after = await (await fetch(`${lab.url}/metrics`)).text();
    const lag = Object.fromEntries(
      samples(after, 'ds01_projection_lag_events').map((s) => [s.labels['projection'], s.value]),
    );
    // users and audit read UserRegistered; allocation does not.
    expect(lag).toMatchObject({ users: 1, audit: 1, allocation: 0 });
  });

  it('a real Prometheus scrapes it, and a replayed DCGM exporter page beside it', async () => {
    const dcgm = await replayMetrics(readFileSync(DCGM_CAPTURE, 'utf8'));
    const prometheus = await startPrometheus(`
global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: ds01-exporter
    static_configs: [{ targets: ['${lab.target}'] }]
  - job_name: dcgm-exporter
    static_configs: [{ targets: ['${dcgm.target}'] }]
`);
    try {
      await prometheus.targetsUp(2);
      const allocated = await prometheus.query('ds01_gpu_allocated');
      expect(allocated.map((r) => r.metric['gpu_slot']).sort()).toEqual(['0', '2.0']);
      const fb = await prometheus.query('DCGM_FI_DEV_FB_FREE{GPU_I_ID!=""}');
      expect(fb.map((r) => r.metric['GPU_I_PROFILE'])).toEqual(['1g.6gb']);
    } finally {
      await prometheus.stop();
      await dcgm.close();
    }
  }, 60_000);
});
