import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasAll, WatcherHarness } from '../../services/docker-watcher/test/harness.ts';
import { cleanupTestRun, describeWithDocker, TEST_RUN_LABEL, uniqueName } from '../support/docker.ts';
import { ensureTestUser, ensureUserFolder, type TestUser } from '../support/users.ts';

const run = promisify(execFile);

/**
 * Containers made the ways people make them — the docker CLI, Debian's docker-compose, the dev
 * containers CLI, and ds01-infra's own commands (their labels and names) — seen by the watcher and
 * attributed to real unix users who own the folders involved.
 */
describeWithDocker('container attribution, end to end', (td) => {
  let h: WatcherHarness;
  const label = `${TEST_RUN_LABEL}=${td.runId}`;
  const made: string[] = [];

  beforeAll(async () => {
    // Accounts named only through a user slice are found by enumerating the accounts, which the watcher
    // does when it starts (and again on a slice it cannot map): make them before it starts.
    await ensureTestUser('j.doe');
    h = new WatcherHarness(td.host);
    await h.startWatcher();
  });
  afterAll(async () => {
    await h?.close();
    await Promise.all(
      made.map((id) =>
        td.docker
          .getContainer(id)
          .remove({ force: true })
          .catch(() => {}),
      ),
    );
    await cleanupTestRun(td);
  });

  const describedOf = async (id: string) => {
    await h.waitFor(id, hasAll('ContainerDescribed'), 'its description');
    return (await h.events(id)).find((e) => e.type === 'ContainerDescribed')!.data as Record<string, unknown>;
  };
  const unmanagedOf = async (id: string) =>
    (await h.events(id)).find((e) => e.type === 'UnmanagedContainerDetected')?.data as
      | Record<string, unknown>
      | undefined;

  it('docker CLI: a home folder the user owns, bind-mounted, names them (mount_path)', async () => {
    const user = await ensureTestUser('cli');
    const data = await ensureUserFolder(user, 'data');
    const id = await h.docker(
      'run',
      '-d',
      '--name',
      uniqueName(td, 'cli'),
      '--label',
      label,
      '-v',
      `${data}:/data`,
      td.image,
      'sleep',
      '60',
    );
    expect(await describedOf(id)).toMatchObject({
      owner: { user: user.name, rule: 'mount_path' },
      interface: 'docker',
      type: 'docker',
      managed: false,
    });
    expect(await unmanagedOf(id)).toMatchObject({ owner: { user: user.name }, gpu: { access: 'none' } });
  });

  it('docker CLI: --user <uid> names the account (container_uid)', async () => {
    const user = await ensureTestUser('uid');
    const id = await h.docker(
      'create',
      '--name',
      uniqueName(td, 'uid'),
      '--label',
      label,
      '--user',
      `${user.uid}:${user.gid}`,
      td.image,
    );
    expect(await describedOf(id)).toMatchObject({
      owner: { user: user.name, rule: 'container_uid', evidence: `runs as uid ${user.uid}` },
    });
  });

  it("docker CLI: someone else's folder mounted does not make it theirs", async () => {
    const owner = await ensureTestUser('owner');
    const folder = await ensureUserFolder(owner, 'shared');
    const intruder = await ensureTestUser('intruder');
    // The folder is in the intruder's home path but owned by someone else.
    const path = await ensureUserFolder(intruder, 'borrowed');
    await run('chown', [`${owner.uid}:${owner.gid}`, path]);
    const id = await h.docker(
      'create',
      '--name',
      uniqueName(td, 'borrow'),
      '--label',
      label,
      '-v',
      `${path}:/x`,
      td.image,
    );
    expect(await describedOf(id)).toMatchObject({ owner: { user: null, rule: 'unknown' } });
    expect(folder).toContain(owner.home);
  });

  it("docker-compose: the project's working dir under /home names the user (compose_dir)", async () => {
    const user = await ensureTestUser('compose');
    const project = await ensureUserFolder(user, `stack-${td.runId}`);
    await writeFile(
      join(project, 'docker-compose.yml'),
      [
        "version: '3'",
        'services:',
        '  worker:',
        `    image: ${td.image}`,
        '    command: sleep 60',
        '    network_mode: none',
        '    labels:',
        `      ${TEST_RUN_LABEL}: "${td.runId}"`,
        '',
      ].join('\n'),
    );
    await run('docker-compose', ['up', '-d'], {
      cwd: project,
      env: { ...process.env, DOCKER_HOST: td.host },
    });
    const id = await h.docker(
      'ps',
      '-q',
      '--no-trunc',
      '--filter',
      `label=com.docker.compose.project.working_dir=${project}`,
    );
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(await describedOf(id)).toMatchObject({
      owner: {
        user: user.name,
        rule: 'compose_dir',
        evidence: `com.docker.compose.project.working_dir=${project}`,
      },
      interface: 'other',
      type: 'compose',
    });
    await run('docker-compose', ['down', '-t', '0'], {
      cwd: project,
      env: { ...process.env, DOCKER_HOST: td.host },
    });
  });

  it('devcontainer up: the local folder under /home names the user (devcontainer)', {
    timeout: 120_000,
  }, async () => {
    const user = await ensureTestUser('dev');
    const project = await ensureUserFolder(user, `thesis-${td.runId}`);
    await ensureUserFolder(user, `thesis-${td.runId}/.devcontainer`);
    await writeFile(join(project, '.devcontainer', 'devcontainer.json'), JSON.stringify({ image: td.image }));
    const devcontainer = join(process.cwd(), 'node_modules', '.bin', 'devcontainer');
    const { stdout } = await run(devcontainer, ['up', '--workspace-folder', project], {
      env: { ...process.env, DOCKER_HOST: td.host },
    });
    const id = (JSON.parse(stdout.trim().split('\n').at(-1)!) as { containerId: string }).containerId;
    made.push(id);
    expect(await describedOf(id)).toMatchObject({
      owner: { user: user.name, rule: 'devcontainer', evidence: `devcontainer.local_folder=${project}` },
      interface: 'vscode',
      type: 'devcontainer',
      managed: false,
    });
  });

  describe('containers carrying what ds01-infra commands write', () => {
    let user: TestUser;
    let dotted: TestUser;
    beforeAll(async () => {
      user = await ensureTestUser('infra');
      dotted = await ensureTestUser('j.doe');
    });

    it('mlc-create-wrapper (name <name>._.<uid>, ds01.* labels): atomic, ds01_label, managed', async () => {
      const id = await h.docker(
        'create',
        '--name',
        `${uniqueName(td, 'research')}._.${user.uid}`,
        '--label',
        label,
        '--label',
        `ds01.user=${user.name}`,
        '--label',
        'ds01.managed=true',
        '--label',
        'ds01.interface=atomic',
        '--label',
        `ds01.user.sanitized=${user.name}`,
        '--label',
        'ds01.created_at=2026-02-16T15:30:00Z',
        '--label',
        'devcontainer.workspaceFolder=/workspace',
        '--user',
        `${user.uid}:${user.gid}`,
        td.image,
      );
      expect(await describedOf(id)).toMatchObject({
        owner: { user: user.name, rule: 'ds01_label' },
        interface: 'atomic',
        type: 'atomic',
        managed: true,
      });
      expect(await h.types(id)).not.toContain('UnmanagedContainerDetected');
    });

    it('legacy AIME container (aime.mlc.* labels): read through the mapping, aime_label', async () => {
      const id = await h.docker(
        'create',
        '--name',
        `${uniqueName(td, 'old')}._.${user.uid}`,
        '--label',
        label,
        '--label',
        `aime.mlc.USER=${user.name}`,
        '--label',
        'aime.mlc.DS01_MANAGED=true',
        '--label',
        'aime.mlc.NAME=old',
        td.image,
      );
      expect(await describedOf(id)).toMatchObject({
        owner: { user: user.name, rule: 'aime_label', evidence: `aime.mlc.USER=${user.name}` },
        interface: 'atomic',
        managed: true,
      });
    });

    it('a ._.<uid> name alone resolves the uid to the account (container_name)', async () => {
      const id = await h.docker(
        'create',
        '--name',
        `${uniqueName(td, 'bare')}._.${user.uid}`,
        '--label',
        label,
        td.image,
      );
      expect(await describedOf(id)).toMatchObject({
        owner: { user: user.name, rule: 'container_name' },
        interface: 'atomic',
        managed: false,
      });
    });

    it("docker-wrapper's per-user cgroup slice, mapped back from the sanitised name (cgroup_slice)", async () => {
      // ds01t-j.doe sanitises to ds01t_j_doe, as ds01-infra's username_utils.py does.
      const id = await h.docker(
        'create',
        '--name',
        uniqueName(td, 'slice'),
        '--label',
        label,
        '--cgroup-parent',
        'ds01-student-ds01t_j_doe.slice',
        td.image,
      );
      expect(await describedOf(id)).toMatchObject({
        owner: { user: dotted.name, rule: 'cgroup_slice' },
        cgroupParent: 'ds01-student-ds01t_j_doe.slice',
      });
    });

    it('the monitoring stack is seen but is no user workload', async () => {
      const id = await h.docker(
        'create',
        '--name',
        `ds01-prometheus-${td.runId}`,
        '--label',
        label,
        '--label',
        'ds01.monitoring=true',
        td.image,
      );
      expect(await describedOf(id)).toMatchObject({ infrastructure: true, managed: false });
      expect(await h.types(id)).toEqual(['ContainerCreated', 'ContainerDescribed']);
    });
  });
});
