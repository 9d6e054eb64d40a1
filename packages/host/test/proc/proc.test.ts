import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  containerIdOfCgroup,
  processKeyOf,
  readBareMetalGrants,
  readProcessInfo,
  startTicksOf,
} from '../../src/proc/index.ts';

const ID = '3c566ce9f752820f77ad42f044dbb045d6819ad94a87aed8fd524bc9cbfb3bd6';

describe('containerIdOfCgroup', () => {
  it.each([
    // As read on this machine's test dockerd (cgroup v1, cgroupfs driver).
    ['cgroup v1', `9:name=systemd:/docker/${ID}\n4:memory:/docker/${ID}\n0::/docker/${ID}\n`],
    ['cgroup v2, systemd driver', `0::/system.slice/docker-${ID}.scope\n`],
    ['a ds01 user slice', `0::/ds01.slice/ds01-student.slice/ds01-student-alice.slice/docker-${ID}.scope\n`],
    ['a cgroup parent with the cgroupfs driver', `4:memory:/ds01-student-alice.slice/${ID}\n`],
    ['a process in a sub-cgroup of the container', `0::/system.slice/docker-${ID}.scope/init.scope\n`],
  ])('finds the container of %s', (_form, text) => {
    expect(containerIdOfCgroup(text)).toBe(ID);
  });

  it.each([
    ['a host process (v1)', '9:name=systemd:/\n4:memory:/user.slice\n'],
    ['a login session (v2)', '0::/user.slice/user-1000.slice/session-3.scope\n'],
    ['a short id is not a container', '0::/docker/3c566ce9f752\n'],
  ])('finds none for %s', (_form, text) => {
    expect(containerIdOfCgroup(text)).toBeNull();
  });
});

describe('/proc', () => {
  it('reads this process: start time, uid, cgroup and command line', async () => {
    const info = await readProcessInfo(process.pid);
    expect(info).toMatchObject({ pid: process.pid, uid: process.getuid!() });
    expect(info!.commandLine).toContain('node');
    expect(processKeyOf(info!)).toMatch(new RegExp(`^${process.pid}:\\d+$`));
    expect(await readProcessInfo(2 ** 22 + 17)).toBeNull();
  });

  it('reads the start time after a command that holds spaces and parentheses', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    expect(startTicksOf(`42 (my (odd) cmd) ${fields.join(' ')}`)).toBe(22);
  });
});

describe("ds01-infra's bare-metal grants", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ds01-grants-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads permanent and temporary grants as bare-metal-access writes them, naming bad files', async () => {
    // The shape of scripts/admin/bare-metal-access's heredoc, with `date -Iseconds` times.
    writeFileSync(
      join(dir, 'alice.json'),
      '{\n  "user": "alice",\n  "granted_by": "root",\n  "granted_at": "2026-12-03T10:00:00+00:00",\n' +
        '  "type": "temporary",\n  "duration": "24h",\n  "expires_at": "2026-12-04T10:00:00+00:00"\n}\n',
    );
    writeFileSync(
      join(dir, 'bob.json'),
      '{\n  "user": "bob",\n  "granted_by": "root",\n  "granted_at": "2026-12-03T10:00:00+00:00",\n' +
        '  "type": "permanent",\n  "duration": null,\n  "expires_at": null\n}\n',
    );
    writeFileSync(join(dir, 'carol.json'), '{ "user": "carol", "type": "temporary"');
    const { grants, problems } = await readBareMetalGrants(dir);
    expect(grants).toEqual([
      { user: 'alice', type: 'temporary', expiresAt: '2026-12-04T10:00:00+00:00' },
      { user: 'bob', type: 'permanent', expiresAt: null },
    ]);
    expect(problems).toEqual([expect.stringMatching(/carol\.json: not JSON/)]);
    expect(await readBareMetalGrants(join(dir, 'missing'))).toEqual({ grants: [], problems: [] });
  });
});
