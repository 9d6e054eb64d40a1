import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  findCheckoutRoot,
  INSTALLED_CONFIG_DIR,
  INSTALLED_DATA_DIR,
  loadDs01Config,
} from '../src/ds01Config.ts';
import { ConfigError } from '../src/yamlFile.ts';

let root: string;
let configDir: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'ds01-config-'));
  configDir = join(root, 'etc');
  mkdirSync(configDir);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function writeYaml(text: string): string {
  const file = join(configDir, 'ds01.yaml');
  writeFileSync(file, text);
  return file;
}

function problemsOf(run: () => unknown): ConfigError['problems'] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('where DS01 keeps things', () => {
  it('defaults to ./var and ./config of the checkout it runs from', () => {
    const config = loadDs01Config({ env: {}, checkoutRoot: root });
    expect(config.paths).toMatchObject({
      checkoutRoot: root,
      dataDir: join(root, 'var'),
      configDir: join(root, 'config'),
      projectionsDb: join(root, 'var', 'projections.db'),
      daemonLock: join(root, 'var', 'ds01d.pid'),
    });
    expect(config.eventStore).toEqual({ url: undefined, path: join(root, 'var', 'events.db') });
    expect(config.host).toBe(hostname());
    expect(config.logLevel).toBe('info');
  });

  it('defaults to /var/lib/ds01 and /etc/ds01 when installed (no checkout)', () => {
    const config = loadDs01Config({ env: {}, checkoutRoot: null });
    expect(config.paths.dataDir).toBe(INSTALLED_DATA_DIR);
    expect(config.paths.configDir).toBe(INSTALLED_CONFIG_DIR);
  });

  it('finds this checkout from the code location, and none from a folder outside it', () => {
    const found = findCheckoutRoot();
    expect(found).not.toBeNull();
    expect(import.meta.dirname.startsWith(found!)).toBe(true);
    expect(findCheckoutRoot(root)).toBeNull();
  });

  it('data dir: flag > DS01_DATA_DIR > data_dir in ds01.yaml > default', () => {
    writeYaml('data_dir: from-yaml\n');
    const base = { configDir, checkoutRoot: root, cwd: root };
    expect(loadDs01Config({ ...base, env: {} }).paths.dataDir).toBe(join(configDir, 'from-yaml'));
    expect(loadDs01Config({ ...base, env: { DS01_DATA_DIR: '/srv/env' } }).paths.dataDir).toBe('/srv/env');
    expect(
      loadDs01Config({ ...base, env: { DS01_DATA_DIR: '/srv/env' }, dataDir: 'flag' }).paths.dataDir,
    ).toBe(join(root, 'flag'));
  });

  it('config dir: flag > DS01_CONFIG_DIR > default, and ds01.yaml is read from it', () => {
    writeYaml('host: from-flag-dir\n');
    const other = join(root, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'ds01.yaml'), 'host: from-env-dir\n');
    const env = { DS01_CONFIG_DIR: other };
    expect(loadDs01Config({ env, checkoutRoot: root }).host).toBe('from-env-dir');
    expect(loadDs01Config({ env, configDir, checkoutRoot: root }).host).toBe('from-flag-dir');
  });

  it('event store: DS01_EVENTSTORE_URL > event_store.url; path relative to the config dir', () => {
    writeYaml('event_store:\n  url: esdb://yaml:2113?tls=false\n  path: ../log/events.db\n');
    const config = loadDs01Config({ env: {}, configDir, checkoutRoot: root });
    expect(config.eventStore).toEqual({
      url: 'esdb://yaml:2113?tls=false',
      path: join(root, 'log', 'events.db'),
    });
    const fromEnv = loadDs01Config({
      env: { DS01_EVENTSTORE_URL: 'esdb://env:2113' },
      configDir,
      checkoutRoot: root,
    });
    expect(fromEnv.eventStore.url).toBe('esdb://env:2113');
  });

  it('reads the shipped example unchanged', () => {
    const shipped = join(import.meta.dirname, '..', '..', '..', 'config');
    const config = loadDs01Config({ env: {}, configDir: shipped, checkoutRoot: root });
    expect(config.logLevel).toBe('info');
    expect(config.eventStore.url).toBeUndefined();
  });
});

describe('sections other concepts add', () => {
  it('reads the gpus section of the shipped example (composed from @ds01/host)', () => {
    const example = readFileSync(
      join(import.meta.dirname, '..', '..', '..', 'config', 'gpus.simulated.example.yaml'),
      'utf8',
    );
    writeYaml(`log_level: warn\n${example}`);
    const config = loadDs01Config({ env: {}, configDir, checkoutRoot: root });
    expect(config.yaml.gpus?.simulated.length).toBeGreaterThan(0);
    expect(config.logLevel).toBe('warn');
  });

  it('names a mistyped key inside a list of the gpus section, with its line and the nearest key', () => {
    const file = writeYaml(
      'gpus:\n  mode: simulated\n  simulated:\n    - name: A100\n      memory_mb: 81920\n',
    );
    const problems = problemsOf(() => loadDs01Config({ env: {}, configDir, checkoutRoot: root }));
    expect(problems).toContainEqual({
      file,
      line: 5,
      column: 7,
      key: 'gpus.simulated.0.memory_mb',
      message: 'is not a known key',
      suggestion: 'memory_mib',
    });
  });
});

describe('a ds01.yaml that does not validate', () => {
  it('names file:line, the unknown key and the nearest known key', () => {
    const file = writeYaml('host: gpu01\nlog_levl: debug\nevent_store:\n  pth: /x\n');
    const problems = problemsOf(() => loadDs01Config({ env: {}, configDir, checkoutRoot: root }));
    expect(problems).toEqual([
      { file, line: 2, column: 1, key: 'log_levl', message: 'is not a known key', suggestion: 'log_level' },
      { file, line: 4, column: 3, key: 'event_store.pth', message: 'is not a known key', suggestion: 'path' },
    ]);
  });

  it('names the line of a wrong value and says what is expected', () => {
    const file = writeYaml('host: gpu01\nlog_level: loud\n');
    const [problem] = problemsOf(() => loadDs01Config({ env: {}, configDir, checkoutRoot: root }));
    expect(problem).toMatchObject({ file, line: 2, column: 12, key: 'log_level' });
    expect(problem?.message).toMatch(/debug/);
    expect(() => loadDs01Config({ env: {}, configDir, checkoutRoot: root })).toThrow(
      new RegExp(`^${file}:2:12: log_level: `),
    );
  });

  it('refuses an event store url that is not a connection string', () => {
    writeYaml('event_store:\n  url: http://localhost:2113\n');
    const [problem] = problemsOf(() => loadDs01Config({ env: {}, configDir, checkoutRoot: root }));
    expect(problem).toMatchObject({ line: 2, key: 'event_store.url' });
    expect(problem?.message).toMatch(/postgres:\/\/.*kurrentdb:\/\//);
  });

  it('reports YAML syntax errors with their line', () => {
    writeYaml('host: gpu01\nevent_store: [unclosed\n');
    const [problem] = problemsOf(() => loadDs01Config({ env: {}, configDir, checkoutRoot: root }));
    expect(problem?.message).toMatch(/^YAML syntax/);
    expect(problem?.line).toBeGreaterThanOrEqual(2);
  });

  it('refuses a bad DS01_LOG_LEVEL, naming the variable', () => {
    expect(() =>
      loadDs01Config({ env: { DS01_LOG_LEVEL: 'chatty' }, configDir, checkoutRoot: root }),
    ).toThrow(/DS01_LOG_LEVEL: 'chatty' is not a log level/);
  });

  it('reads an empty file, and a section with every key commented out, as defaults', () => {
    writeYaml('# nothing yet\nevent_store:\n  # url: esdb://x\n');
    expect(loadDs01Config({ env: {}, configDir, checkoutRoot: root }).eventStore.url).toBeUndefined();
    writeYaml('');
    expect(loadDs01Config({ env: {}, configDir, checkoutRoot: root }).logLevel).toBe('info');
  });
});
