import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type GatewayLab, removeRunResources, startGatewayLab } from '../gateway/gatewayLab.ts';
import { describeWithDocker } from '../support/docker.ts';
import type { TestUser } from '../support/users.ts';
import { busyboxImages, removeUserLeftovers } from './workflowLab.ts';

/** `ds01 setup --yes` as alice through her gateway socket: a project and its running container. */
describeWithDocker('ds01 setup --yes as a real user', (td) => {
  let lab: GatewayLab;
  let alice: TestUser;
  const ds01 = join(process.cwd(), 'packages', 'cli', 'bin', 'ds01.js');
  const name = `setup-${td.runId}`;
  const as = (...args: string[]) =>
    lab.as(alice, ds01, ['--config-dir', lab.configDir, ...args], { timeoutMs: 50_000 });

  beforeAll(async () => {
    lab = await startGatewayLab(td, ['alice'], {
      editYaml: busyboxImages(td),
    });
    alice = lab.users['alice']!;
  });
  afterAll(async () => {
    await lab?.stop();
    await removeRunResources(td, td.runId);
    await removeUserLeftovers(td, alice, name);
  });

  it('makes the project and a running CPU container, then prints the daily commands', {
    timeout: 60_000,
  }, async () => {
    const folder = join(alice.home, name);
    const run = await as('setup', '--yes', '--project', folder, '--template', 'minimal', '--cpu-only');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`made project ${name} in ${folder}`);
    // The limits as a short table of alice's (the lab's default group), not as raw JSON.
    expect(run.stdout).toMatch(/^your limits:\n {2}GPUs: +0 of \d/m);
    expect(run.stdout).toMatch(/^ {2}containers: +0 of \d+$/m);
    expect(run.stdout).toMatch(/^ {2}free now: +\d+ GPU slots?$/m);
    expect(run.stdout).not.toContain('{"');
    expect(run.stdout).toContain(`ds01 container attach ${name}`);
    expect((await stat(join(folder, 'Dockerfile'))).uid).toBe(alice.uid);
    const container = await td.docker.getContainer(`${name}._.${alice.uid}`).inspect();
    expect(container.State.Running).toBe(true);
    // Made by a ds01 command: labelled as ds01-infra labels its own commands' containers.
    expect(container.Config.Labels).toMatchObject({
      'ds01.interface': 'atomic',
      'ds01.container_type': 'atomic',
    });
    const again = await as('setup', '--yes', '--project', folder, '--cpu-only');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/exists already/);
  });
});
