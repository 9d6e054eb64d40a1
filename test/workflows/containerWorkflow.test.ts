import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type GatewayLab, removeRunResources, startGatewayLab } from '../gateway/gatewayLab.ts';
import { describeWithDocker, TEST_RUN_LABEL } from '../support/docker.ts';
import { nvidiaDevicesOf } from '../support/nvidiaToolkit.ts';
import type { TestUser } from '../support/users.ts';
import { waitUntil } from '../support/waitUntil.ts';

/**
 * `ds01 container ...` as alice and bob (real users, runuser), through their own gateway sockets
 * on the test dockerd, with GPUs from the simulated inventory: deploy, list, exec, stop, start,
 * retire (its GPUs released at once, reason `retired`), a denied deploy that says what to do next,
 * the same name for two users, and bob unable to touch alice's container by any name. GPU containers
 * start: the test dockerd's stand-in NVIDIA toolkit hook records the devices each was given.
 */
describeWithDocker('ds01 container: deploy, list, stop, retire as real users', (td) => {
  let lab: GatewayLab;
  let alice: TestUser;
  let bob: TestUser;
  const ds01 = join(process.cwd(), 'packages', 'cli', 'bin', 'ds01.js');
  // ds01t-alice is shared with other suites: names of this run only.
  const thesis = `thesis-${td.runId}`;
  const second = `second-${td.runId}`;
  const third = `third-${td.runId}`;
  const fourth = `fourth-${td.runId}`;
  const as = (user: TestUser, ...args: string[]) => lab.as(user, ds01, args, { timeoutMs: 40_000 });
  const inspect = async (name: string) => td.docker.getContainer(name).inspect();

  // An image whose program does not exist: a container of it is created and then fails to start.
  const noProgram = `ds01t-${td.runId}-noprogram:latest`;

  beforeAll(async () => {
    const base = await td.docker.createContainer({ Image: td.image, Labels: { [TEST_RUN_LABEL]: td.runId } });
    await base.commit({
      repo: noProgram.split(':')[0],
      tag: 'latest',
      changes: 'ENTRYPOINT ["/no/such/program"]',
    });
    await base.remove();
    lab = await startGatewayLab(td, ['alice', 'bob']);
    alice = lab.users['alice']!;
    bob = lab.users['bob']!;
  });
  afterAll(async () => {
    await lab?.stop();
    await removeRunResources(td, td.runId);
    await td.docker
      .getImage(noProgram)
      .remove({ force: true })
      .catch(() => {});
  });

  it('deploys with the home at /workspace, named <name>._.<uid>, and says how to get in', {
    timeout: 60_000,
  }, async () => {
    const deployed = await as(alice, 'container', 'deploy', thesis, '--image', td.image, '--cpu-only');
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(deployed.stdout).toContain(`deployed ${thesis} (Docker: ${thesis}._.${alice.uid})`);
    expect(deployed.stdout).toContain(`ds01 container attach ${thesis}`);
    expect(deployed.stdout).toContain(`ds01 container exec ${thesis}`);
    expect(deployed.stdout).toMatch(/VS Code: .*docker\.host/);
    const container = await inspect(`${thesis}._.${alice.uid}`);
    expect(container.State.Running).toBe(true);
    expect(container.Config.Labels).toMatchObject({ 'ds01.user': alice.name, 'ds01.managed': 'true' });
    expect(container.HostConfig.Binds).toEqual([`${alice.home}:/workspace`]);

    // bob can have a `thesis` too: his own uid makes his Docker name.
    const bobs = await as(bob, 'container', 'deploy', thesis, '--image', td.image, '--cpu-only');
    expect(bobs.code, bobs.stderr).toBe(0);
    expect((await inspect(`${thesis}._.${bob.uid}`)).Config.Labels['ds01.user']).toBe(bob.name);

    const listed = await as(alice, 'container', 'list', '--json');
    expect(listed.code, listed.stderr).toBe(0);
    const rows = JSON.parse(listed.stdout) as Array<{ name: string; dockerName: string; state: string }>;
    expect(rows.find((r) => r.name === thesis)).toMatchObject({
      dockerName: `${thesis}._.${alice.uid}`,
      state: 'running',
    });
    expect(rows.some((r) => r.dockerName.endsWith(`._.${bob.uid}`))).toBe(false);
    // ds01-infra's name for the same command.
    const legacy = await as(bob, 'container-list');
    expect(legacy.code, legacy.stderr).toBe(0);
    expect(legacy.stdout).toMatch(new RegExp(`${thesis}\\s+running\\s+-`));

    const exec = await as(alice, 'container', 'exec', thesis, '--', 'sh', '-c', 'echo in-$(pwd)');
    expect(exec.code, exec.stderr).toBe(0);
    expect(exec.stdout).toContain('in-/workspace');
  });

  it('a GPU deploy starts with the granted device; one over the quota is denied with the next step, exit 3', {
    timeout: 60_000,
  }, async () => {
    const deployed = await as(alice, 'container', 'deploy', second, '--image', td.image, '--profile', 'full');
    expect(deployed.code, deployed.stderr).toBe(0);
    const [granted] = (await lab.events('GpuAllocated')).filter(
      (e) => (e.data as { user: string }).user === alice.name,
    );
    const device = (granted!.data as { deviceId: string }).deviceId;
    expect(device).toMatch(/^GPU-/);
    expect(deployed.stdout).toContain(`  GPU:        ${device}`);
    const container = await inspect(`${second}._.${alice.uid}`);
    expect(container.State.Running).toBe(true);
    expect(container.HostConfig.DeviceRequests?.[0]?.DeviceIDs).toEqual([device]);
    // What the NVIDIA toolkit was asked to mount at its start, and what the process inside sees.
    expect(await nvidiaDevicesOf(container.Id)).toEqual([device]);
    const visible = await as(
      alice,
      'container',
      'exec',
      second,
      '--',
      'sh',
      '-c',
      'echo $NVIDIA_VISIBLE_DEVICES',
    );
    expect(visible.stdout.trim()).toBe(device);
    const listed = JSON.parse((await as(alice, 'container', 'list', '--json')).stdout) as Array<{
      name: string;
      gpus: string[];
    }>;
    expect(listed.find((r) => r.name === second)?.gpus).toEqual([device]);
    const table = await as(alice, 'container', 'list');
    expect(table.stdout).toMatch(new RegExp(`${second}\\s+running\\s+1\\s`));

    // `create` allocates too, without the start: the hook has not run for it.
    const other = await as(alice, 'container-create', third, '--image', td.image, '--profile', 'full');
    expect(other.code, other.stderr).toBe(0);
    expect(await nvidiaDevicesOf((await inspect(`${third}._.${alice.uid}`)).Id)).toBeNull();
    const denied = await as(alice, 'container', 'deploy', fourth, '--image', td.image, '--profile', 'full');
    expect(denied.code).toBe(3);
    expect(denied.stderr).toContain(`no GPU for ${fourth}: you hold 2 of 2 GPUs`);
    expect(denied.stderr).toMatch(/hint: retire one with `ds01 container retire (second|third)-/);
    expect(denied.stderr).toContain('or ask your admin');
    // Nothing was left behind by the refusal.
    await expect(inspect(`${fourth}._.${alice.uid}`)).rejects.toMatchObject({ statusCode: 404 });
  });

  it('a GPU container Docker cannot start (its program is missing) is removed, and its GPU freed', {
    timeout: 60_000,
  }, async () => {
    const name = `nostart-${td.runId}`;
    // Alice holds both whole GPUs by now: none is free for bob, and he is told where to look.
    const full = await as(bob, 'container', 'deploy', name, '--image', td.image, '--profile', 'full');
    expect(full.code).toBe(3);
    expect(full.stderr).toContain(`no GPU for ${name}: none of the GPUs you may use is free now`);
    expect(full.stderr).toMatch(/hint: see who holds what with `ds01 gpu status`/);
    // A MIG slice is free: granted, created, and the start fails on the image's missing program.
    const tried = await as(bob, 'container', 'deploy', name, '--image', noProgram, '--profile', '1g.10gb');
    expect(tried.code).toBe(1);
    expect(tried.stderr).toContain(`could not deploy ${name}:`);
    expect(tried.stderr).toContain('/no/such/program');
    await expect(inspect(`${name}._.${bob.uid}`)).rejects.toMatchObject({ statusCode: 404 });
    const [granted] = (await lab.events('GpuAllocated')).filter(
      (e) => (e.data as { user: string }).user === bob.name,
    );
    expect((granted!.data as { deviceId: string }).deviceId).toMatch(/^MIG-/);
    await waitUntil(
      async () =>
        (await lab.events('GpuReleased')).some(
          (e) => (e.data as { slot: string }).slot === (granted!.data as { slot: string }).slot,
        ),
      "the GPU of bob's removed container released",
      20_000,
    );

    // `--gpus 1` with an image that runs: started, given what is free (a MIG slice: alice holds both
    // whole GPUs); `container list` shows it; retire frees it at once.
    const mig = `mig-${td.runId}`;
    const ran = await as(bob, 'container', 'deploy', mig, '--image', td.image, '--gpus', '1');
    expect(ran.code, ran.stderr).toBe(0);
    const container = await inspect(`${mig}._.${bob.uid}`);
    expect(container.State.Running).toBe(true);
    const bobs = (await lab.events('GpuAllocated')).filter(
      (e) => (e.data as { user: string }).user === bob.name,
    );
    expect(bobs).toHaveLength(2);
    const device = (bobs[1]!.data as { deviceId: string }).deviceId;
    expect(device).toMatch(/^MIG-/);
    expect(container.HostConfig.DeviceRequests?.[0]?.DeviceIDs).toEqual([device]);
    expect(await nvidiaDevicesOf(container.Id)).toEqual([device]);
    const listed = JSON.parse((await as(bob, 'container', 'list', '--json')).stdout) as Array<{
      name: string;
      gpus: string[];
    }>;
    expect(listed.find((r) => r.name === mig)?.gpus).toEqual([device]);
    const retired = await as(bob, 'container', 'retire', mig, '-t', '1');
    expect(retired.code, retired.stderr).toBe(0);
    const releases = (await lab.events('GpuReleased')).filter(
      (e) => (e.data as { containerId: string }).containerId === container.Id,
    );
    expect(releases.map((e) => (e.data as { reason: string }).reason)).toEqual(['retired']);
  });

  it("bob can neither stop nor retire alice's container, by her name or by its Docker name", async () => {
    const byHisName = await as(bob, 'container', 'retire', second);
    expect(byHisName.code).toBe(1);
    expect(byHisName.stderr).toContain(`you have no container '${second}'`);
    for (const verb of ['stop', 'retire', 'logs']) {
      const tried = await as(bob, 'container', verb, `${thesis}._.${alice.uid}`);
      expect(tried.code, verb).toBe(1);
      expect(tried.stderr, verb).toMatch(/is not yours/);
    }
    expect((await inspect(`${thesis}._.${alice.uid}`)).State.Running).toBe(true);
  });

  it('stop, start, retire; a retire releases the GPUs at once (reason retired)', {
    timeout: 60_000,
  }, async () => {
    const stopped = await as(alice, 'container', 'stop', thesis, '-t', '1');
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toContain(`stopped ${thesis}`);
    expect((await inspect(`${thesis}._.${alice.uid}`)).State.Running).toBe(false);
    const started = await as(alice, 'container', 'start', thesis);
    expect(started.code, started.stderr).toBe(0);
    expect((await inspect(`${thesis}._.${alice.uid}`)).State.Running).toBe(true);
    const cpuOnly = await as(alice, 'container', 'retire', thesis, '-t', '1');
    expect(cpuOnly.code, cpuOnly.stderr).toBe(0);
    expect(cpuOnly.stdout).toBe(`retired ${thesis}: stopped and removed\n`);

    const id = (await inspect(`${second}._.${alice.uid}`)).Id;
    const retired = await as(alice, 'container-retire', second, '--json');
    expect(retired.code, retired.stderr).toBe(0);
    const answer = JSON.parse(retired.stdout) as { name: string; released: string[]; containerId: string };
    expect(answer).toMatchObject({ name: second, containerId: id });
    expect(answer.released).toHaveLength(1);
    await expect(inspect(id)).rejects.toMatchObject({ statusCode: 404 });
    const releases = (await lab.events('GpuReleased')).filter(
      (e) => (e.data as { containerId: string }).containerId === id,
    );
    expect(releases.map((e) => (e.data as { reason: string }).reason)).toEqual(['retired']);
    expect(releases[0]!.metadata.actor).toEqual({ kind: 'user', name: alice.name });

    // With a GPU free again, the create that was denied goes through.
    const now = await as(alice, 'container', 'create', fourth, '--image', td.image, '--profile', 'full');
    expect(now.code, now.stderr).toBe(0);
  });
});
