import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithDocker } from '../support/docker.ts';
import type { TestUser } from '../support/users.ts';
import { waitUntil } from '../support/waitUntil.ts';
import { type GatewayLab, rawRequest, removeRunResources, startGatewayLab } from './gatewayLab.ts';

/**
 * Isolation between users: bob cannot reach alice's socket (the kernel refuses him), and through his
 * own socket he cannot see, inspect, exec into, stop, remove or otherwise touch alice's containers,
 * volumes or networks — by id, id prefix or name. Each refusal is an AccessDenied event.
 */
describeWithDocker('the gateway keeps users apart', (td) => {
  let lab: GatewayLab;
  let alice: TestUser;
  let bob: TestUser;
  let aliceId: string;
  const prefix = `ds01t-${td.runId}`;
  const aliceName = `${prefix}-alice-box`;

  beforeAll(async () => {
    lab = await startGatewayLab(td, ['alice', 'bob']);
    alice = lab.users['alice']!;
    bob = lab.users['bob']!;
    const run = await lab.as(alice, 'docker', ['run', '-d', '--name', aliceName, td.image, 'sleep', '300']);
    aliceId = run.stdout.trim();
    expect(aliceId).toMatch(/^[0-9a-f]{64}$/);
  });
  afterAll(async () => {
    await lab?.stop();
    await removeRunResources(td, prefix);
  });

  it("bob cannot connect to alice's socket: the kernel says permission denied", async () => {
    const attempt = await lab.as(bob, 'docker', ['-H', `unix://${lab.socketOf(alice)}`, 'ps']);
    expect(attempt.code).not.toBe(0);
    expect(attempt.stderr).toMatch(/permission denied/);
  });

  it("bob's list and events show nothing of alice's", async () => {
    expect((await lab.as(bob, 'docker', ['ps', '-a', '--format', '{{.Names}}'])).stdout).not.toContain(
      aliceName,
    );
    expect((await lab.as(alice, 'docker', ['ps', '--format', '{{.Names}}'])).stdout).toContain(aliceName);
    const until = `${Math.ceil(Date.now() / 1000)}`;
    const bobsEvents = await lab.as(bob, 'docker', ['events', '--since', '0', '--until', until]);
    expect(bobsEvents.stdout).not.toContain(aliceName);
    const alicesEvents = await lab.as(alice, 'docker', ['events', '--since', '0', '--until', until]);
    expect(alicesEvents.stdout).toContain(aliceName);
  });

  it.each([
    ['inspect by full id', () => ['inspect', aliceId]],
    ['inspect by id prefix', () => ['inspect', aliceId.slice(0, 8)]],
    ['inspect by name', () => ['inspect', aliceName]],
    ['logs', () => ['logs', aliceName]],
    ['exec', () => ['exec', aliceId.slice(0, 12), 'true']],
    ['stop', () => ['stop', aliceName]],
    ['kill', () => ['kill', aliceId]],
    ['rm -f', () => ['rm', '-f', aliceName]],
    ['rename', () => ['rename', aliceName, `${prefix}-stolen`]],
    ['cp out', () => ['cp', `${aliceName}:/etc/hostname`, '/tmp/x']],
    ['run --volumes-from', () => ['run', '--rm', '--volumes-from', aliceName, td.image, 'true']],
    [
      'run --network container:',
      () => ['run', '--rm', '--network', `container:${aliceName}`, td.image, 'true'],
    ],
  ])("bob's %s on alice's container is refused", async (_what, args) => {
    const attempt = await lab.as(bob, 'docker', args());
    expect(attempt.code).not.toBe(0);
    expect(attempt.stderr).toMatch(/is not yours/);
  });

  it("alice's container is untouched and every refusal is recorded with user, endpoint, target and rule", async () => {
    expect(
      (await lab.as(alice, 'docker', ['inspect', '--format', '{{.State.Running}}', aliceName])).stdout.trim(),
    ).toBe('true');
    const denials = (await lab.events('AccessDenied')).map((e) => e.data as Record<string, unknown>);
    const bobs = denials.filter((d) => d['user'] === bob.name && d['rule'] === 'not-owner');
    expect(bobs.length).toBeGreaterThanOrEqual(12);
    expect(bobs).toContainEqual(
      expect.objectContaining({
        endpoint: 'GET /containers/{name}/json',
        target: aliceId.slice(0, 8),
        status: 403,
      }),
    );
    expect(bobs).toContainEqual(
      expect.objectContaining({ endpoint: 'POST /containers/{name}/stop', target: aliceName }),
    );
  });

  it("exec ids are mapped to their container: bob cannot start or inspect alice's exec", async () => {
    const created = await rawRequest(lab.socketOf(alice), 'POST', `/containers/${aliceName}/exec`, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ Cmd: ['true'] }),
    });
    expect(created.status).toBe(201);
    const execId = (JSON.parse(created.body) as { Id: string }).Id;
    const inspect = await rawRequest(lab.socketOf(bob), 'GET', `/exec/${execId}/json`);
    expect(inspect.status).toBe(403);
    const start = await rawRequest(lab.socketOf(bob), 'POST', `/exec/${execId}/start`, {
      headers: { 'content-type': 'application/json' },
      body: '{"Detach":true}',
    });
    expect(start.status).toBe(403);
    expect((await rawRequest(lab.socketOf(alice), 'GET', `/exec/${execId}/json`)).status).toBe(200);
  });

  it('volumes and networks are scoped the same way', async () => {
    const volume = `${prefix}-vol`;
    expect((await lab.as(alice, 'docker', ['volume', 'create', volume])).code).toBe(0);
    expect((await lab.as(bob, 'docker', ['volume', 'ls', '-q'])).stdout).not.toContain(volume);
    expect((await lab.as(bob, 'docker', ['volume', 'inspect', volume])).stderr).toMatch(/is not yours/);
    expect((await lab.as(bob, 'docker', ['volume', 'rm', volume])).stderr).toMatch(/is not yours/);
    // The name is alice's: bob's create would be handed her volume by dockerd.
    expect((await lab.as(bob, 'docker', ['volume', 'create', volume])).stderr).toMatch(/is not yours/);
    const mount = await lab.as(bob, 'docker', ['run', '--rm', '-v', `${volume}:/data`, td.image, 'true']);
    expect(mount.stderr).toMatch(/is not yours/);
    const bindOpts = await lab.as(bob, 'docker', [
      'volume',
      'create',
      '--opt',
      'type=none',
      '--opt',
      'o=bind',
      '--opt',
      'device=/etc',
      `${prefix}-bind`,
    ]);
    expect(bindOpts.stderr).toMatch(/driver options are not allowed/);

    const network = `${prefix}-net`;
    expect((await lab.as(alice, 'docker', ['network', 'create', network])).code).toBe(0);
    expect((await lab.as(bob, 'docker', ['network', 'ls', '--format', '{{.Name}}'])).stdout).not.toContain(
      network,
    );
    expect((await lab.as(bob, 'docker', ['network', 'inspect', network])).stderr).toMatch(/is not yours/);
    expect((await lab.as(bob, 'docker', ['network', 'rm', network])).stderr).toMatch(/is not yours/);
    expect((await lab.as(alice, 'docker', ['network', 'rm', network])).code).toBe(0);
    expect((await lab.as(alice, 'docker', ['volume', 'rm', volume])).code).toBe(0);
  });

  it('ds01 run by a user goes through their socket: their containers and GPUs only, no store needed', async () => {
    const ds01 = join(process.cwd(), 'packages', 'cli', 'bin', 'ds01.js');
    type Row = { name: string; owner: string; owner_rule: string; owner_verified: number };
    const rowsOf = async (user: TestUser) => {
      const listed = await lab.as(user, ds01, ['containers', '--json']);
      expect(listed.code, listed.stderr).toBe(0);
      return JSON.parse(listed.stdout) as Row[];
    };
    const listOf = async (user: TestUser) => (await rowsOf(user)).map((r) => r.name);
    // Her owner is the one she could not write: the socket it came through (the gateway's
    // ContainerCreateAuthorized folded into the read model, whether it landed before or after the
    // watcher's events), not the ds01.user label the gateway added.
    await waitUntil(
      async () => (await rowsOf(alice)).find((r) => r.name === aliceName)?.owner_verified === 1,
      "alice's container in her ds01 containers, its owner verified",
      20_000,
    );
    expect((await rowsOf(alice)).find((r) => r.name === aliceName)).toMatchObject({
      owner: alice.name,
      owner_rule: 'gateway',
    });
    expect(await listOf(bob)).not.toContain(aliceName);
    const table = await lab.as(alice, ds01, ['containers']);
    expect(table.stdout).toContain(aliceName);
    expect(table.stdout).toContain(`${alice.name} (verified: gateway)`);
    const gpus = await lab.as(alice, ds01, ['gpu', 'status', '--json']);
    expect(gpus.code, gpus.stderr).toBe(0);
    expect(JSON.parse(gpus.stdout)).toMatchObject({ user: alice.name, slots: [] });
    // With her socket, but not her own: the kernel refuses, and ds01 says so.
    const other = await lab.as(bob, 'env', [`DS01_SOCKET=${lab.socketOf(alice)}`, ds01, 'containers']);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/EACCES[\s\S]*not yours/);
  });

  it("the DS01 API answers for the socket's user only", async () => {
    const whoami = await rawRequest(lab.socketOf(bob), 'GET', '/ds01/v1/whoami');
    expect(JSON.parse(whoami.body)).toMatchObject({ user: bob.name, uid: bob.uid });
    const limits = await rawRequest(lab.socketOf(alice), 'GET', '/ds01/v1/limits');
    expect(JSON.parse(limits.body)).toMatchObject({ user: alice.name });
    // There is no parameter naming a user: asking for bob's through alice's socket still answers alice's.
    const sneaky = await rawRequest(lab.socketOf(alice), 'GET', `/ds01/v1/limits?user=${bob.name}`);
    expect(JSON.parse(sneaky.body)).toMatchObject({ user: alice.name });
  });
});
