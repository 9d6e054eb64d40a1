import { DEFAULT_GPU_HEALTH_THRESHOLDS } from '@ds01/domain';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ConfigError,
  gpuHealthThresholdsOf,
  parseYaml,
  telemetryConfigOf,
  telemetrySection,
} from '../src/index.ts';

const Ds01Yaml = z.strictObject(telemetrySection);
const read = (text: string) => telemetryConfigOf(parseYaml(text, 'ds01.yaml', Ds01Yaml));

describe('the telemetry: section of ds01.yaml', () => {
  it('has a default for every key: 5-minute windows, no dcgm-exporter, warn on host GPU processes', () => {
    const config = read('');
    expect(config).toMatchObject({
      window_seconds: 300,
      dcgm_exporter_url: null,
      host_processes: { policy: 'warn', grace_seconds: 30, users: {}, groups: {} },
      cgroups: { root: '/sys/fs/cgroup', interval_seconds: 15 },
    });
    expect(gpuHealthThresholdsOf(config)).toEqual(DEFAULT_GPU_HEALTH_THRESHOLDS);
    expect(read('telemetry:\n')).toEqual(config);
  });

  it('reads per-user and per-group host process policies and health thresholds', () => {
    const config = read(
      'telemetry:\n  dcgm_exporter_url: http://localhost:9400/metrics\n  health:\n    temperature_c: null\n' +
        '  host_processes:\n    policy: stop\n    users: { alice: allow }\n    groups: { staff: warn }\n',
    );
    expect(config.dcgm_exporter_url).toBe('http://localhost:9400/metrics');
    expect(gpuHealthThresholdsOf(config).temperatureC).toBeNull();
    expect(config.host_processes).toMatchObject({
      policy: 'stop',
      users: { alice: 'allow' },
      groups: { staff: 'warn' },
    });
  });

  it.each([
    [
      'a window that does not divide a day',
      'telemetry:\n  window_seconds: 7\n',
      /ds01\.yaml:2:\d+: telemetry\.window_seconds: must divide a day/,
    ],
    [
      'an unknown policy',
      'telemetry:\n  host_processes:\n    policy: kill\n',
      /telemetry\.host_processes\.policy/,
    ],
    ['a misspelt key', 'telemetry:\n  windows_seconds: 60\n', /did you mean 'window_seconds'/],
  ])('refuses %s, naming file:line', (_name, text, message) => {
    expect(() => read(text)).toThrow(ConfigError);
    expect(() => read(text)).toThrow(message);
  });
});
