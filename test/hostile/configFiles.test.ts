import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventCatalog, policyStream } from '@ds01/domain';
import { SqliteEventStore } from '@ds01/event-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDs01 } from '../../packages/cli/test/support/ds01Cli.ts';
import { labConfigDir, ready, startDs01d } from '../support/ds01d.ts';
import { billionLaughs } from '../support/fuzz.ts';
import { ensureTestUser, type TestUser } from '../support/users.ts';

/**
 * The lab's configuration files as hostile input (issue #16, findings 1, 9, 11, 12): each case was
 * reproduced against c4c2b71 first. ds01d reads these files as root, so a file must never crash it,
 * hang it, cost it gigabytes, make it print what a link points at, or let two names share a slice.
 */

let root: string;
let dataDir: string;
let alice: TestUser;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'ds01-hostile-config-'));
  dataDir = join(root, 'data');
  alice = await ensureTestUser('alice');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

let configs = 0;
/** A fresh copy of the checkout's example configuration. */
function configDir(): string {
  return labConfigDir(join(root, `config-${++configs}`), { host: 'gpu01' });
}

const check = (dir: string, ...args: string[]) => runDs01(dataDir, ['config', 'check', dir, ...args]);

/** The bomb as a section of resource-limits.yaml: its first alias is on the third line. */
const bomb = `${billionLaughs(10)
  .split('\n')
  .map((line, i) => (i === 0 ? `x_bomb:\n  ${line}` : `  ${line}`))
  .join('\n')}\n`;

describe('a YAML alias bomb (finding 1)', () => {
  it('ds01 config check names the file and the line of its first alias, not "a bug in DS01"', async () => {
    const dir = configDir();
    writeFileSync(join(dir, 'resource-limits.yaml'), bomb);
    const { code, stdout, stderr } = await check(dir);
    expect(code).toBe(1);
    expect(stdout).toContain(`error: ${dir}/resource-limits.yaml:3:`);
    expect(stdout).toContain('expands aliases (*name) into too many values');
    expect(stderr).not.toMatch(/unexpected error|bug in DS01/);
  });

  it('ds01d starts on it, records PolicyRejected, and a bomb written under it keeps the last valid policy', {
    timeout: 120_000,
  }, async () => {
    const dir = configDir();
    const data = join(root, 'data-bomb');
    const limits = join(dir, 'resource-limits.yaml');
    const valid = readFileSync(limits, 'utf8');
    writeFileSync(limits, bomb);
    let daemon = startDs01d({ dataDir: data, configDir: dir, dockerHost: 'unix:///nonexistent.sock' });
    try {
      await daemon.waitFor(ready, 'ds01d ready');
      await daemon.waitFor(
        (line) => String(line.msg).includes('no valid configuration was ever applied'),
        'the refusal',
      );
      await daemon.stop();
      writeFileSync(limits, valid);
      daemon = startDs01d({ dataDir: data, configDir: dir, dockerHost: 'unix:///nonexistent.sock' });
      await daemon.waitFor((line) => String(line.msg).startsWith('applied a change'), 'the valid policy');
      writeFileSync(limits, bomb);
      await daemon.waitFor(
        (line) => String(line.msg).includes('the last valid configuration stays in force'),
        'the refusal of the bomb',
      );
      expect(daemon.child.exitCode).toBeNull();
    } finally {
      expect(await daemon.stop()).toBe(0);
    }
    const store = new SqliteEventStore({
      path: join(data, 'events.db'),
      codec: eventCatalog,
      readOnly: true,
    });
    const types: string[] = [];
    for await (const event of store.readStream(policyStream)) types.push(event.type);
    await store.close();
    expect(types).toEqual(['PolicyRejected', 'PolicyChanged', 'PolicyRejected']);
  });
});

describe('files that are not what they seem (findings 11, 12)', () => {
  it('a symbolic link out of the folder (to a root-only secret) is refused, and nothing of it is printed', async () => {
    const dir = configDir();
    const secret = join(root, 'shadow');
    writeFileSync(secret, 'root:$6$SECRETHASH$abc:19000:0:99999:7:::\nbob:$6$BOBHASH:19000::::::\n', {
      mode: 0o600,
    });
    rmSync(join(dir, 'user-overrides.yaml'));
    symlinkSync(secret, join(dir, 'user-overrides.yaml'));
    const { code, stdout, stderr } = await check(dir, '--no-accounts');
    expect(code).toBe(1);
    expect(stdout).toContain(`${dir}/user-overrides.yaml: is a symbolic link to ${secret}, outside`);
    expect(stdout + stderr).not.toMatch(/SECRETHASH|BOBHASH|root:|bob:/);
  });

  it('a link that stays inside the folder is followed', async () => {
    const dir = configDir();
    writeFileSync(join(dir, 'overrides-2026.yaml'), 'alice:\n  max_cpus: 4\n');
    rmSync(join(dir, 'user-overrides.yaml'));
    symlinkSync('overrides-2026.yaml', join(dir, 'user-overrides.yaml'));
    const { code, stdout } = await check(dir, '--no-accounts');
    expect(stdout).toContain('valid');
    expect(code).toBe(0);
  });

  it('a FIFO as a members file is refused at once, never waited on', async () => {
    const dir = configDir();
    rmSync(join(dir, 'groups', 'student.members'));
    execFileSync('mkfifo', ['--', join(dir, 'groups', 'student.members')]);
    const { code, stdout } = await check(dir, '--no-accounts');
    expect(code).toBe(1);
    expect(stdout).toContain(`${dir}/groups/student.members: is not a regular file (a FIFO)`);
  });

  it('a file over the size limit is refused with its size, without being parsed; the limit is configurable', async () => {
    const dir = configDir();
    const limits = join(dir, 'resource-limits.yaml');
    const valid = readFileSync(limits, 'utf8');
    writeFileSync(limits, `${valid}${'# padding\n'.repeat(500_000)}`);
    const big = await check(dir, '--no-accounts');
    expect(big.code).toBe(1);
    expect(big.stdout).toMatch(
      /resource-limits\.yaml: is 4\.8 MiB, over the 4\.0 MiB a configuration file may have/,
    );
    writeFileSync(limits, valid);
    const small = await runDs01(dataDir, ['config', 'check', dir, '--no-accounts'], {
      DS01_CONFIG_MAX_BYTES: '1000',
    });
    expect(small.stdout).toMatch(/resource-limits\.yaml: is \d+ bytes, over the 1000 bytes/);
  });

  it('10 000 levels of nesting: file:line:column, no stack overflow (held up)', async () => {
    const dir = configDir();
    writeFileSync(join(dir, 'user-overrides.yaml'), `${'['.repeat(10_000)}${']'.repeat(9_999)}\n`);
    const { code, stdout, stderr } = await check(dir, '--no-accounts');
    expect(code).toBe(1);
    expect(stdout).toMatch(/user-overrides\.yaml:\d+:\d+: /);
    expect(stderr).not.toMatch(/unexpected error|Maximum call stack/);
  });
});

describe('usernames in the files (finding 9)', () => {
  it('a group name that is no word (a path, a slash) is an error: slices and file names are made of it', async () => {
    const dir = configDir();
    const limits = join(dir, 'resource-limits.yaml');
    writeFileSync(limits, readFileSync(limits, 'utf8').replace('\n  researcher:\n', '\n  "../../x":\n'));
    const { code, stdout } = await check(dir, '--no-accounts');
    expect(code).toBe(1);
    expect(stdout).toMatch(/resource-limits\.yaml:\d+:\d+: groups\.\.\.\/\.\.\/x: is no group name/);
  });

  it('names that make one cgroup slice are errors, naming both places', async () => {
    const dir = configDir();
    writeFileSync(
      join(dir, 'groups', 'researcher.members'),
      `${alice.name}\n${alice.name}@evil.lan\n$(${alice.name})\n`,
    );
    writeFileSync(join(dir, 'user-overrides.yaml'), `"${alice.name}.":\n  max_cpus: 64\n`);
    const { code, stdout } = await check(dir);
    expect(code).toBe(1);
    const slice = alice.name.replaceAll('-', '_');
    for (const [line, name] of [
      [2, `${alice.name}@evil.lan`],
      [3, `$(${alice.name})`],
    ] as const) {
      expect(stdout).toContain(
        `error: ${dir}/groups/researcher.members:${line}:1: ${name}: names the same cgroup slice user '${slice}' as ${alice.name} (member of researcher, line 1)`,
      );
    }
    expect(stdout).toMatch(
      new RegExp(`user-overrides\\.yaml:1:1: ${alice.name}\\.: names the same cgroup slice user '${slice}'`),
    );
  });

  it('names no account can have are errors; names the host does not know are warnings with file:line', async () => {
    const dir = configDir();
    writeFileSync(
      join(dir, 'groups', 'student.members'),
      `${alice.name}\n../../etc/x\n-rf\n\u0430lice\nnobody-here@uni.edu\n`,
    );
    const { code, stdout } = await check(dir);
    expect(code).toBe(1);
    expect(stdout).toContain(`error: ${dir}/groups/student.members:2:1: ../../etc/x: holds '/'`);
    expect(stdout).toContain(`error: ${dir}/groups/student.members:3:1: -rf: starts with '-'`);
    expect(stdout).toContain(
      `warning: ${dir}/groups/student.members:4:1: \u0430lice: is not an account the host's user database knows (getent passwd) (it holds U+0430: a look-alike of a Latin letter?)`,
    );
    expect(stdout).toContain(
      `warning: ${dir}/groups/student.members:5:1: nobody-here@uni.edu: is not an account`,
    );
    // A real account is no warning.
    expect(stdout).not.toMatch(new RegExp(`:1:1: ${alice.name}:`));
  });
});
