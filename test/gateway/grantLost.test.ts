import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithDocker, uniqueName } from '../support/docker.ts';
import { runDs01 } from '../support/ds01d.ts';
import { HoldingDockerProxy } from '../support/holdingDockerProxy.ts';
import { waitUntil } from '../support/waitUntil.ts';
import { type GatewayLab, removeRunResources, startGatewayLab } from './gatewayLab.ts';

/**
 * A GPU grant lost before dockerd answered the create (it expired, or an admin released it): the
 * devices may be another user's by then, so the gateway removes the container and answers 409
 * Conflict telling the user to try again — not a 502, which would blame Docker or the gateway. Docker
 * is slowed by a proxy that holds the create's answer back while the grant is released.
 */
describeWithDocker('a create whose GPU grant was lost before Docker answered', (td) => {
  let lab: GatewayLab;
  let proxy: HoldingDockerProxy;
  const dir = mkdtempSync(join(tmpdir(), 'ds01-grant-lost-'));
  const prefix = `ds01t-${td.runId}`;

  beforeAll(async () => {
    proxy = await HoldingDockerProxy.start(td.socketPath, join(dir, 'docker.sock'));
    lab = await startGatewayLab(td, ['alice'], { dockerHost: proxy.host });
  });
  afterAll(async () => {
    await lab?.stop();
    await proxy?.close();
    await removeRunResources(td, prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  it('is removed and answered 409 with "try again"; the refusal is recorded', async () => {
    const alice = lab.users['alice']!;
    const name = uniqueName(td, 'lost');
    const held = proxy.holdCreates();
    const creating = lab.as(alice, 'docker', ['create', '--gpus', '1', '--name', name, td.image, 'true']);
    await held.answered;
    const [grant] = (await lab.events('GpuAllocated')).filter(
      (e) => (e.data as { user: string }).user === alice.name,
    );
    expect(grant, 'the gateway granted a GPU for the create').toBeDefined();
    const released = await runDs01(['gpu', 'release', '--slot', (grant!.data as { slot: string }).slot], lab);
    expect(released.code, released.stderr).toBe(0);
    held.release();

    const result = await creating;
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/given up before Docker created it.*the container was removed; try again/);
    const [denied] = (await lab.events('AccessDenied')).filter(
      (e) => (e.data as { rule: string }).rule === 'gpu-grant-expired',
    );
    expect(denied?.data).toMatchObject({
      user: alice.name,
      status: 409,
      endpoint: 'POST /containers/create',
    });
    await waitUntil(
      async () => (await td.docker.listContainers({ all: true, filters: { name: [name] } })).length === 0,
      `the container ${name} to be removed`,
    );
    expect(
      (await lab.events('ContainerCreateAuthorized')).filter(
        (e) => (e.data as { name: string }).name === name,
      ),
    ).toEqual([]);
  });
});
