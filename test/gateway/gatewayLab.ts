import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventCatalog } from '@ds01/domain';
import { openEventStore, type RecordedEvent } from '@ds01/event-store';
import type { TestDocker } from '../support/docker.ts';
import { type Ds01dProcess, labConfigDir, ready, runDs01, startDs01d } from '../support/ds01d.ts';
import { ensureTestUser, type TestUser } from '../support/users.ts';
import { waitUntil } from '../support/waitUntil.ts';

/**
 * A lab with the gateway for end-to-end suites: a fresh data and config dir, a gateway whose sockets
 * live in a folder of this run (never /run/ds01), users registered with `ds01 user add`, ds01d
 * started on the test dockerd, and helpers to run clients as a user through their socket.
 *
 *   const lab = await startGatewayLab(td, ['alice', 'bob']);
 *   await lab.as(lab.users.alice, 'docker', ['ps']);
 */
export interface GatewayLab {
  dataDir: string;
  configDir: string;
  usersDir: string;
  adminSocket: string;
  users: Record<string, TestUser>;
  daemon: Ds01dProcess;
  socketOf(user: TestUser): string;
  /** Runs a program as the user (runuser), DOCKER_HOST on their socket; never rejects. */
  as(
    user: TestUser,
    program: string,
    args: readonly string[],
    options?: { cwd?: string; timeoutMs?: number },
  ): Promise<RunResult>;
  /** The same, as a child process to read while it runs (logs -f). */
  spawnAs(user: TestUser, program: string, args: readonly string[]): ChildProcess;
  /** Starts ds01d again on the same dirs (after stop() or a kill). */
  restart(): Promise<void>;
  /** Every event of these types in the log (read-only, beside the running ds01d). */
  events(...types: string[]): Promise<RecordedEvent[]>;
  stop(): Promise<void>;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `dockerHost`: where ds01d reaches Docker (default the test dockerd; a proxy in front of it).
 * `editYaml`: changes to the lab's ds01.yaml.
 */
export async function startGatewayLab(
  td: TestDocker,
  names: readonly string[],
  options: { dockerHost?: string; editYaml?: (yaml: string) => string } = {},
): Promise<GatewayLab> {
  const root = mkdtempSync(join(tmpdir(), 'ds01-gateway-'));
  // Users must reach their folder under it: the run's root is traversable, their folder is theirs alone.
  chmodSync(root, 0o755);
  const dataDir = join(root, 'data');
  const configDir = labConfigDir(join(root, 'config'), { host: `gw-${td.runId}` });
  const usersDir = join(root, 'run', 'users');
  const adminSocket = join(root, 'run', 'admin', 'docker.sock');
  const yaml = join(configDir, 'ds01.yaml');
  const withSockets = readFileSync(yaml, 'utf8').replace(
    /^gateway:\n/m,
    `gateway:\n  users_dir: ${usersDir}\n  admin_socket: ${adminSocket}\n`,
  );
  writeFileSync(yaml, options.editYaml ? options.editYaml(withSockets) : withSockets);
  const start = async () => {
    const daemon = startDs01d({
      dataDir,
      configDir,
      dockerHost: options.dockerHost ?? td.host,
      logLevel: 'info',
      gatewayUsersDir: usersDir,
    });
    await daemon.waitFor(ready, 'ds01d ready');
    return daemon;
  };
  const socketOf = (user: TestUser) => join(usersDir, user.name, 'docker.sock');
  // Users are added as an admin would, to a running ds01d (a CLI write needs the store ds01d made);
  // their sockets follow the UserRegistered events.
  const daemon = await start();
  const users: Record<string, TestUser> = {};
  for (const name of names) {
    users[name] = await ensureTestUser(name);
    const added = await runDs01(['user', 'add', users[name].name], { dataDir, configDir });
    if (added.code !== 0) throw new Error(`ds01 user add ${users[name].name} failed: ${added.stderr}`);
  }
  await waitUntil(
    () => Object.values(users).every((user) => existsSync(socketOf(user))),
    'every user has a gateway socket',
    30_000,
  );
  const envOf = (user: TestUser) => [
    `DOCKER_HOST=unix://${socketOf(user)}`,
    `HOME=${user.home}`,
    'DOCKER_CLI_HINTS=false',
    `PATH=${process.env['PATH']}`,
  ];
  const lab: GatewayLab = {
    dataDir,
    configDir,
    usersDir,
    adminSocket,
    users,
    daemon,
    socketOf,
    as(user, program, args, options = {}) {
      return new Promise((resolve) => {
        execFile(
          'runuser',
          ['-u', user.name, '--', 'env', '-i', ...envOf(user), program, ...args],
          {
            cwd: options.cwd ?? user.home,
            timeout: options.timeoutMs ?? 60_000,
            maxBuffer: 64 * 1024 * 1024,
          },
          (error, stdout, stderr) =>
            resolve({
              code: error ? Number((error as { code?: unknown }).code ?? 1) || 1 : 0,
              stdout,
              stderr,
            }),
        );
      });
    },
    spawnAs(user, program, args) {
      return spawn('runuser', ['-u', user.name, '--', 'env', '-i', ...envOf(user), program, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    },
    async restart() {
      lab.daemon = await start();
    },
    async events(...types) {
      const store = await openEventStore({
        path: join(dataDir, 'events.db'),
        url: undefined,
        codec: eventCatalog,
        readOnly: true,
      });
      try {
        const found: RecordedEvent[] = [];
        for await (const event of store.readAll({ filter: { eventTypes: types } })) found.push(event);
        return found;
      } finally {
        await store.close();
      }
    },
    async stop() {
      await lab.daemon.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
  return lab;
}

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * One HTTP request on a socket, exactly as written (the path is not normalised: hostile requests
 * are the point). Root can connect to any user's socket; the socket still names its user.
 */
export function rawRequest(
  socketPath: string,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const request = http.request({
      socketPath,
      method,
      path,
      headers: { host: 'docker', ...options.headers },
    });
    request.once('error', reject);
    request.once('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.once('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    request.end(options.body);
  });
}

/**
 * Bytes written on a socket as they are (what no HTTP client library would send); the raw answer,
 * once the gateway closes the connection (send `Connection: close`, or a request it refuses).
 */
export function rawBytes(socketPath: string, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    const chunks: Buffer[] = [];
    socket.once('error', reject);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('close', () => resolve(Buffer.concat(chunks).toString()));
    socket.write(bytes);
  });
}

/** Removes every container, network and volume of a user that carries this run's name prefix. */
export async function removeRunResources(td: TestDocker, prefix: string): Promise<void> {
  const containers = await td.docker.listContainers({
    all: true,
    filters: JSON.stringify({ name: [prefix] }),
  });
  await Promise.all(
    containers.map((c) =>
      td.docker
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch(() => {}),
    ),
  );
  const networks = await td.docker.listNetworks({ filters: JSON.stringify({ name: [prefix] }) });
  await Promise.all(
    networks.map((n) =>
      td.docker
        .getNetwork(n.Id)
        .remove()
        .catch(() => {}),
    ),
  );
  const volumes = await td.docker.listVolumes({ filters: JSON.stringify({ name: [prefix] }) });
  await Promise.all(
    (volumes.Volumes ?? []).map((v) =>
      td.docker
        .getVolume(v.Name)
        .remove()
        .catch(() => {}),
    ),
  );
}
