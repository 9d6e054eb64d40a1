import { existsSync, lstatSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithDocker, uniqueName } from '../support/docker.ts';
import type { TestUser } from '../support/users.ts';
import { waitUntil } from '../support/waitUntil.ts';
import { type GatewayLab, removeRunResources, startGatewayLab } from './gatewayLab.ts';

/**
 * ds01d stopped (SIGTERM) and killed (-9) while clients are connected: running containers are
 * untouched, streaming clients see their connection end rather than hang, the sockets come back
 * when ds01d starts again (a stale socket file removed), and every creation dockerd confirmed to a
 * user is on the log.
 */
describeWithDocker('the gateway when ds01d stops or dies', (td) => {
  let lab: GatewayLab;
  let alice: TestUser;
  const prefix = `ds01t-${td.runId}`;
  let name: string;

  beforeAll(async () => {
    lab = await startGatewayLab(td, ['alice']);
    alice = lab.users['alice']!;
    name = uniqueName(td, 'talker');
    const run = await lab.as(alice, 'docker', [
      'run',
      '-d',
      '--name',
      name,
      td.image,
      'sh',
      '-c',
      'trap "exit 0" TERM; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done',
    ]);
    expect(run.code, run.stderr).toBe(0);
  });
  afterAll(async () => {
    await lab?.stop();
    await removeRunResources(td, prefix);
  });

  /** A client streaming through the gateway, and a promise of its exit. */
  const stream = (args: string[]) => {
    const child = lab.spawnAs(alice, 'docker', args);
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, exited, output: () => output };
  };

  const running = async () => (await td.docker.getContainer(name).inspect()).State.Running;

  async function connectedClients(): Promise<Array<ReturnType<typeof stream>>> {
    const logs = stream(['logs', '-f', '--tail', '1', name]);
    const attach = stream(['attach', '--no-stdin', '--sig-proxy=false', name]);
    await waitUntil(
      () => /tick/.test(logs.output()) && /tick/.test(attach.output()),
      'logs -f and attach to stream',
      20_000,
    );
    return [logs, attach];
  }

  async function createThroughSocket(): Promise<string> {
    const created = await lab.as(alice, 'docker', [
      'create',
      '--name',
      uniqueName(td, 'made'),
      td.image,
      'true',
    ]);
    expect(created.code, created.stderr).toBe(0);
    return created.stdout.trim();
  }

  it('SIGTERM: streams end, the container runs on, the socket goes and comes back', {
    timeout: 120_000,
  }, async () => {
    const clients = await connectedClients();
    const made = await createThroughSocket();
    expect(await lab.daemon.stop()).toBe(0);
    for (const client of clients) await expect(timeout(client.exited, 15_000)).resolves.not.toBe('hung');
    expect(await running()).toBe(true);
    expect(existsSync(lab.socketOf(alice))).toBe(false);
    await lab.restart();
    expect((await lab.as(alice, 'docker', ['ps', '--format', '{{.Names}}'])).stdout).toContain(name);
    const recorded = (await lab.events('ContainerCreateAuthorized')).map(
      (e) => (e.data as { containerId: string }).containerId,
    );
    expect(recorded).toContain(made);
  });

  it('kill -9: streams end, the container runs on, the stale socket is replaced at restart', {
    timeout: 120_000,
  }, async () => {
    const clients = await connectedClients();
    const made = await createThroughSocket();
    lab.daemon.child.kill('SIGKILL');
    await lab.daemon.exit;
    for (const client of clients) await expect(timeout(client.exited, 15_000)).resolves.not.toBe('hung');
    expect(await running()).toBe(true);
    // The socket file outlives a killed ds01d; nobody answers on it.
    expect(lstatSync(lab.socketOf(alice)).isSocket()).toBe(true);
    expect((await lab.as(alice, 'docker', ['ps'])).code).not.toBe(0);
    // Her folder is hers: she replaces the stale socket by a link to a file of root's before ds01d
    // comes back. Root must neither chown it nor follow it.
    const victim = join(dirname(lab.dataDir), 'root-only-file');
    writeFileSync(victim, 'secret\n', { mode: 0o600 });
    const planted = await lab.as(alice, 'sh', [
      '-c',
      `rm -f ${lab.socketOf(alice)} && ln -s ${victim} ${lab.socketOf(alice)}`,
    ]);
    expect(planted.code, planted.stderr).toBe(0);
    await lab.restart();
    expect([statSync(victim).uid, statSync(victim).mode & 0o777, readFileSync(victim, 'utf8')]).toEqual([
      0,
      0o600,
      'secret\n',
    ]);
    expect(lstatSync(lab.socketOf(alice)).isSocket()).toBe(true);
    expect((await lab.as(alice, 'docker', ['ps', '--format', '{{.Names}}'])).stdout).toContain(name);
    const recorded = (await lab.events('ContainerCreateAuthorized')).map(
      (e) => (e.data as { containerId: string }).containerId,
    );
    expect(recorded).toContain(made);
  });
});

function timeout<T>(promise: Promise<T>, ms: number): Promise<T | 'hung'> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<'hung'>((resolve) => {
      timer = setTimeout(() => resolve('hung'), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
