import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/main.ts';
import { Output } from '../src/output/output.ts';

/** `ds01 config check` on real files: through the real launcher, and in-process for the details. */

const ROOT = join(import.meta.dirname, '..', '..', '..');
const DS01 = join(ROOT, 'packages', 'cli', 'bin', 'ds01.js');
const FIXTURES = join(ROOT, 'packages', 'config', 'test', 'fixtures', 'ds01-infra');

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'ds01-config-cli-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `ds01` launcher, as a user would. */
async function launcher(args: string[]): Promise<Result> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [DS01, '--data-dir', scratch, ...args],
      {
        env: { ...process.env, COLUMNS: '' },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** Runs `ds01` in this process (main(), as the launcher does): the same program, without a Node start-up. */
async function ds01(args: string[]): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const out = new Writable({
    write(chunk, _encoding, done) {
      stdout += String(chunk);
      done();
    },
  });
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main(['--data-dir', scratch, ...args], { output: new Output(out, { COLUMNS: '' }) });
    return { code, stdout, stderr };
  } finally {
    spy.mockRestore();
  }
}

/** A copy of a fixture folder with one file replaced. */
function copyWith(fixture: string, file: string, edit: (text: string) => string): string {
  const dir = mkdtempSync(join(scratch, `${fixture}-`));
  cpSync(join(FIXTURES, fixture), dir, { recursive: true });
  writeFileSync(join(dir, file), edit(readFileSync(join(dir, file), 'utf8')));
  return dir;
}

describe('ds01 config check', () => {
  it('a valid folder: exit 0 and the files read (the real launcher)', async () => {
    // The fixture's members are no accounts of this machine: --no-accounts leaves the user database out.
    const { code, stdout } = await launcher([
      'config',
      'check',
      join(FIXTURES, 'test-fixture'),
      '--no-accounts',
    ]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/test-fixture: valid \(1 file read: resource-limits\.yaml\)/);
  });

  it('an error: file:line:column, key, expected, did you mean; exit 1 with a hint (the real launcher)', async () => {
    const dir = copyWith('test-fixture', 'resource-limits.yaml', (t) =>
      t.replace('  max_cpus: 8\n', '  max_cpu: 8\n'),
    );
    const { code, stdout, stderr } = await launcher(['config', 'check', dir, '--no-accounts']);
    expect(code).toBe(1);
    expect(stdout).toContain(
      `error: ${dir}/resource-limits.yaml:6:3: defaults.max_cpu: is not a key of this format (no version of ds01-infra knows it) (did you mean 'max_cpus'?)`,
    );
    expect(stderr).toMatch(/have 1 error, 0 warnings\nhint: fix each error at the file:line:column shown/);
  });

  it('warnings (a user in two groups) fail the check unless --allow-warnings', async () => {
    const failed = await ds01(['config', 'check', join(FIXTURES, 'lab')]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(
      /warning: .*groups\/researcher\.members:5:1: sam: is a member of both student and researcher/,
    );
    expect(failed.stdout).toMatch(/see also .*groups\/student\.members:6:1/);
    const allowed = await ds01(['config', 'check', join(FIXTURES, 'lab'), '--allow-warnings']);
    expect(allowed.code).toBe(0);
  });

  it("--user: the user's limits as a table, with where each value comes from", async () => {
    const { stdout } = await ds01([
      'config',
      'check',
      join(FIXTURES, 'lab'),
      '--allow-warnings',
      '--user',
      'j.doe@hertie-school.lan',
    ]);
    expect(stdout).toContain('Effective limits of j.doe@hertie-school.lan:');
    expect(stdout).toMatch(/^group\s+researcher\s+listed in researcher$/m);
    expect(stdout).toMatch(
      /^max_gpus\s+4\s+resource-limits\.yaml:\d+\s+groups\.researcher\.max_gpu_equivalents$/m,
    );
    expect(stdout).toMatch(/^storage_workspace\s+N\/A\s+built-in default$/m);
    expect(stdout).toMatch(/^cgroup_parent\s+ds01-researcher-j_doe\.slice/m);
  });

  it('--user --json prints exactly what get_resource_limits.py USER --json prints', async () => {
    const expected = JSON.parse(readFileSync(join(FIXTURES, 'lab.expected.json'), 'utf8')).users;
    for (const user of ['m.rossi@hertie-school.lan', 'datasciencelab', 'nobody']) {
      const { stdout, stderr } = await ds01([
        'config',
        'check',
        join(FIXTURES, 'lab'),
        '--user',
        user,
        '--json',
        '--allow-warnings',
      ]);
      expect(JSON.parse(stdout)).toEqual(expected[user].json);
      expect(stderr).toMatch(/^warning: /); // warnings stay off stdout
    }
  });

  it('--json without --user: every problem as data', async () => {
    const dir = copyWith('test-fixture', 'resource-limits.yaml', (t) =>
      t.replace('default_group: students', 'default_group: student'),
    );
    const { code, stdout } = await ds01(['config', 'check', dir, '--json', '--no-accounts']);
    expect(code).toBe(1);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({ valid: false, warnings: [] });
    expect(report.errors).toEqual([
      expect.objectContaining({
        key: 'default_group',
        line: 52,
        column: 16,
        suggestion: 'students',
        severity: 'error',
      }),
    ]);
  });

  it('a ds01-infra checkout or its config/ folder works as DIR', async () => {
    const checkout = mkdtempSync(join(scratch, 'ds01-infra-'));
    cpSync(join(FIXTURES, 'test-fixture'), join(checkout, 'config', 'runtime'), { recursive: true });
    for (const dir of [checkout, join(checkout, 'config')]) {
      const { code, stdout } = await ds01(['config', 'check', dir, '--no-accounts']);
      expect(code).toBe(0);
      expect(stdout).toContain(`${join(checkout, 'config', 'runtime')}: valid`);
    }
    const { code, stderr } = await ds01(['config', 'check', scratch]);
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /holds no resource-limits\.yaml[\s\S]*hint: pass the folder that holds resource-limits\.yaml/,
    );
  });
});
