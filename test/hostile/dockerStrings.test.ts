import { type ContainerDescription, chargeableOwner } from '@ds01/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDs01 } from '../../packages/cli/test/support/ds01Cli.ts';
import { hasAll, WatcherHarness } from '../../services/docker-watcher/test/harness.ts';
import { cleanupTestRun, createTestContainer, describeWithDocker, uniqueName } from '../support/docker.ts';
import { ensureTestUser, type TestUser } from '../support/users.ts';

/**
 * What a container's creator writes and DS01 reads back (issue #16, findings 2 and 6), on the test
 * dockerd with the real watcher: every attribution rule a creator can satisfy for someone else is
 * recorded as a claim (verified: false) that charges nobody; a path of someone else's that does not
 * exist names nobody; and escape sequences in labels reach an admin's terminal as text.
 */
describeWithDocker('strings Docker hands DS01', (td) => {
  let h: WatcherHarness;
  let bob: TestUser;

  beforeAll(async () => {
    bob = await ensureTestUser('bob');
    await ensureTestUser('alice');
    h = new WatcherHarness(td.host);
    await h.startWatcher();
  });
  afterAll(async () => {
    await h?.close();
    await cleanupTestRun(td);
  });

  const describedOf = async (id: string) => {
    await h.waitFor(id, hasAll('ContainerDescribed'), 'its description');
    return (await h.events(id)).find((e) => e.type === 'ContainerDescribed')!.data as ContainerDescription;
  };

  describe("attribution forged by the creator (finding 2): claims, never bob's verified work", () => {
    const forgeries: [string, () => Parameters<typeof createTestContainer>[1], string | null][] = [
      ['--label ds01.user=bob', () => ({ labels: { 'ds01.user': bob.name } }), 'ds01_label'],
      ['--label aime.mlc.USER=bob', () => ({ labels: { 'aime.mlc.USER': bob.name } }), 'aime_label'],
      [
        "a compose working dir in bob's home that does not exist",
        () => ({ labels: { 'com.docker.compose.project.working_dir': `${bob.home}/proj-${td.runId}` } }),
        null,
      ],
      [
        "a dev container folder in bob's home that does not exist",
        () => ({ labels: { 'devcontainer.local_folder': `${bob.home}/x-${td.runId}` } }),
        null,
      ],
      ["--user <bob's uid>", () => ({ user: String(bob.uid) }), 'container_uid'],
      ["a name <x>._.<bob's uid>", () => ({ name: `${uniqueName(td)}._.${bob.uid}` }), 'container_name'],
      [
        "-v /home/bob:/w (bob's whole home)",
        () => ({ hostConfig: { Binds: [`${bob.home}:/w:ro`] } }),
        'mount_path',
      ],
      [
        '--cgroup-parent ds01-student-<bob>.slice',
        () => ({ hostConfig: { CgroupParent: `ds01-student-${bob.name.replaceAll('-', '_')}.slice` } }),
        'cgroup_slice',
      ],
    ];

    it.each(forgeries)('%s', async (_how, spec, rule) => {
      const container = await createTestContainer(td, spec());
      const { owner } = await describedOf(container.id);
      if (rule === null) expect(owner).toMatchObject({ user: null, rule: 'unknown', verified: false });
      else expect(owner).toMatchObject({ user: bob.name, rule, verified: false });
      expect(chargeableOwner(owner)).toBeNull();
    });
  });

  it('escape sequences in labels are shown as text in tables, and exact in --json (finding 6)', {
    timeout: 120_000,
  }, async () => {
    const hostile = `${bob.name}\u001b[2J\u001b]0;PWNED\u0007`;
    const name = uniqueName(td, 'esc');
    const container = await createTestContainer(td, {
      name,
      labels: { 'ds01.user': hostile, note: '\u001b[31mred\r' },
    });
    await describedOf(container.id);
    const rebuilt = await runDs01(h.dataDir, ['projections', 'rebuild', '--all']);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);

    const list = await runDs01(h.dataDir, ['containers', '--all']);
    expect(list.code, list.stderr).toBe(0);
    const shown = await runDs01(h.dataDir, ['containers', 'show', name]);
    expect(shown.code, shown.stderr).toBe(0);
    for (const output of [list.stdout, shown.stdout]) {
      for (const control of ['\u001b', '\u0007', '\r']) expect(output).not.toContain(control);
      expect(output).toContain(`${bob.name}\\x1b[2J\\x1b]0;PWNED\\x07 (claimed by label: ds01_label)`);
    }

    const json = await runDs01(h.dataDir, ['containers', '--all', '--json']);
    const row = (JSON.parse(json.stdout) as { name: string; owner: string }[]).find((r) => r.name === name);
    expect(row?.owner).toBe(hostile);
    expect(json.stdout).not.toContain('\u001b');
  });
});
