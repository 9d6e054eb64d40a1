import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const MONITORING = join(import.meta.dirname, '..', '..', 'monitoring');
const PROMETHEUS = join(MONITORING, 'prometheus');
const ALERTMANAGER = join(MONITORING, 'alertmanager', 'alertmanager.yml');

async function run(binary: string, args: string[], cwd = MONITORING) {
  try {
    const { stdout, stderr } = await promisify(execFile)(binary, args, { cwd, timeout: 60_000 });
    return { code: 0, output: stdout + stderr, stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr, stdout: failed.stdout };
  }
}

interface RuleFile {
  groups: { name: string; rules: { record?: string; alert?: string; expr: string }[] }[];
}
const rules = (file: string) =>
  (parse(readFileSync(join(PROMETHEUS, 'rules', file), 'utf8')) as RuleFile).groups.flatMap((g) => g.rules);

/** ds01-infra's rule names (monitoring/prometheus/rules/, 2cf1a0e3): the lab's dashboards and alerts use them. */
const DS01_INFRA_ALERTS = [
  'DS01GPUWaste',
  'DS01GPUHighTemperature',
  'DS01GPUCriticalTemperature',
  'DS01GPUMemoryHigh',
  'DS01ContainerHighCPU',
  'DS01ContainerHighMemory',
  'DS01ExporterDown',
  'DS01NodeExporterDown',
  'DS01CAdvisorDown',
  'DS01DiskSpaceLow',
  'DS01PrometheusStorageLow',
  'DS01HighDiskUsage',
  'DS01HighSystemLoad',
  'DS01LowMemory',
  'DS01MIGMappingMismatch',
  'DS01DCGMExporterDown',
  'DS01GrafanaDown',
  'DS01AlertmanagerDown',
  'DS01GPUXIDError',
  'DS01UserGPUWaste',
  'DS01SystemHighGPUWaste',
  'DS01LowGPUCapacity',
  'DS01CriticalGPUCapacity',
];

/** The alerts issue 11 asks a unit test for. */
const TESTED_ALERTS = [
  'DS01GPUWaste',
  'DS01MIGWaste',
  'DS01GPUHighTemperature',
  'DS01GPUCriticalTemperature',
  'DS01GPUMemoryHigh',
  'DS01ContainerHighMemory',
  'DS01ExporterDown',
  'DS01DCGMExporterDown',
  'DS01DiskSpaceLow',
  'DS01GPUProbeFailing',
  'DS01GPULost',
  'DS01UnattributedGPUProcess',
  'DS01ProjectionLag',
  'DS01DockerWatcherDisconnected',
];

describe('monitoring/', () => {
  it('promtool check config: prometheus.yml and every rule file it loads are valid', async () => {
    const result = await run('promtool', ['check', 'config', join(PROMETHEUS, 'prometheus.yml')]);
    expect(result.output).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });

  it('promtool test rules: every alert and corrected recording rule behaves as its unit test says', async () => {
    const tests = readdirSync(join(PROMETHEUS, 'tests')).filter((f) => f.endsWith('.test.yml'));
    expect(tests.length).toBeGreaterThanOrEqual(2);
    const result = await run('promtool', ['test', 'rules', ...tests], join(PROMETHEUS, 'tests'));
    expect(result.output).not.toContain('FAILED');
    expect(result.code).toBe(0);
  });

  it("keeps ds01-infra's 45 recording rules and 23 alerts by name, and has a unit test for each alert the lab relies on", () => {
    const recorded = rules('ds01_recording.yml').map((r) => r.record);
    expect(recorded.filter((r) => r?.startsWith('ds01:')).length).toBeGreaterThanOrEqual(45);
    const alerts = rules('ds01_alerts.yml').map((r) => r.alert);
    for (const name of DS01_INFRA_ALERTS) expect(alerts, name).toContain(name);
    const testText = readdirSync(join(PROMETHEUS, 'tests'))
      .map((f) => readFileSync(join(PROMETHEUS, 'tests', f), 'utf8'))
      .join('\n');
    for (const name of TESTED_ALERTS) {
      expect(alerts, name).toContain(name);
      expect(testText, `a unit test for ${name}`).toMatch(
        new RegExp(`alertname: ${name}\\n[\\s\\S]*?exp_alerts:\\n\\s+- exp_labels`),
      );
    }
  });

  it('amtool check-config passes, and alerts are routed by severity', async () => {
    const check = await run('amtool', ['check-config', ALERTMANAGER]);
    expect(check.output).toContain('SUCCESS');
    expect(check.code).toBe(0);
    for (const [severity, receiver] of [
      ['critical', 'ds01-critical'],
      ['warning', 'ds01-warning'],
      ['info', 'ds01-info'],
    ] as const) {
      const route = await run('amtool', [
        'config',
        'routes',
        'test',
        `--config.file=${ALERTMANAGER}`,
        'alertname=DS01Test',
        `severity=${severity}`,
      ]);
      expect(route.stdout.trim()).toBe(receiver);
    }
  });
});
