// The gateway's cost against the daemon's own socket, in the same run: ds01d (a real child process)
// serves a user's socket in front of the test dockerd, and this process calls both. Latency of
// `docker ps` (GET /containers/json) and inspect calls, throughput of `docker logs` of a 100 MB log
// (10 MB with --quick), and ds01d's memory with 100 connections open.
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { ready, startDs01d } from '../test/support/ds01d.ts';
import type { BenchContext, BenchFile, BenchResult } from './lib/benchFile.ts';
import { measureInterleaved } from './lib/measure.ts';

const DOCKER_HOST = process.env['DS01_TEST_DOCKER_HOST'] || 'unix:///run/ds01-test/docker.sock';
const DOCKER_SOCKET = DOCKER_HOST.replace(/^unix:\/\//, '');
const IMAGE = process.env['DS01_TEST_IMAGE'] || 'ds01-test/busybox:latest';
const ROOT = join(import.meta.dirname, '..');

const bench: BenchFile = {
  name: 'Gateway (per-user Docker socket)',
  description: '',
  async run({ workDir, quick }: BenchContext): Promise<BenchResult[]> {
    const dataDir = join(workDir, 'data');
    const configDir = join(workDir, 'config');
    cpSync(join(ROOT, 'config'), configDir, { recursive: true });
    const usersDir = join(workDir, 'run', 'users');
    const yaml = join(configDir, 'ds01.yaml');
    writeFileSync(
      yaml,
      `host: bench-gateway\n${readFileSync(yaml, 'utf8').replace(
        /^gateway:\n/m,
        `gateway:\n  users_dir: ${usersDir}\n  admin_socket: ${join(workDir, 'run', 'admin', 'docker.sock')}\n`,
      )}`,
    );
    const daemon = startDs01d({
      dataDir,
      configDir,
      dockerHost: DOCKER_HOST,
      logLevel: 'info',
      gatewayUsersDir: usersDir,
    });
    // A CLI write needs the store ds01d makes: the user is added once it is up.
    await daemon.waitFor(ready, 'ds01d ready');
    // root is an account every machine has: its socket is the one measured (root may connect to it).
    execFileSync(process.execPath, [
      join(ROOT, 'packages/cli/bin/ds01.js'),
      '--data-dir',
      dataDir,
      '--config-dir',
      configDir,
      'user',
      'add',
      'root',
    ]);
    const userSocket = join(usersDir, 'root', 'docker.sock');
    const docker = new Dockerode({ socketPath: DOCKER_SOCKET });
    const made: string[] = [];
    try {
      await waitForSocket(userSocket);
      const direct = new Client(DOCKER_SOCKET);
      const gateway = new Client(userSocket);
      // Containers to list and inspect, made through the gateway so that they are the user's.
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) {
        const created = await gateway.call(
          'POST',
          `/containers/create?name=ds01-bench-gw-${process.pid}-${i}`,
          {
            Image: IMAGE,
            Cmd: ['true'],
          },
        );
        ids.push((JSON.parse(created) as { Id: string }).Id);
      }
      made.push(...ids);
      const repetitions = quick ? 100 : 1000;
      // The direct call asks for what the gateway forwards (its owner filter included), so dockerd does
      // the same work for both and the difference is the gateway's.
      const latency = (name: string, path: () => string, directPath: () => string = path) =>
        measureInterleaved(
          (['direct', 'gateway'] as const).map((variant) => ({
            name,
            variant: variant === 'direct' ? 'dockerd socket' : 'gateway socket',
            eventsPerRepetition: 1,
            warmup: 20,
            repetitions,
            run: async () => {
              if (variant === 'direct') await direct.call('GET', directPath());
              else await gateway.call('GET', path());
            },
            ...(variant === 'gateway' ? { baseline: 'dockerd socket' } : {}),
          })),
        );
      let n = 0;
      const own = encodeURIComponent(JSON.stringify({ label: { 'ds01.user=root': true } }));
      const ps = await latency(
        'GET /containers/json (docker ps)',
        () => '/v1.41/containers/json?all=1',
        () => `/v1.41/containers/json?all=1&filters=${own}`,
      );
      const inspect = await latency(
        'GET /containers/{id}/json (inspect by id)',
        () => `/v1.41/containers/${ids[n++ % ids.length]}/json`,
      );
      const names = ids.map((_, i) => `ds01-bench-gw-${process.pid}-${i}`);
      const inspectByName = await latency(
        'GET /containers/{name}/json (inspect by name)',
        () => `/v1.41/containers/${names[n++ % names.length]}/json`,
      );

      // docker logs of a big log: bytes through per second, direct vs gateway.
      const logBytes = quick ? 10_000_000 : 100_000_000;
      const talker = await gateway.call('POST', `/containers/create?name=ds01-bench-gw-${process.pid}-log`, {
        Image: IMAGE,
        // It stays running once its log is written: a neighbour's `container prune` must not take it.
        Cmd: [
          'sh',
          '-c',
          `head -c ${logBytes} /dev/zero | tr '\\0' x | fold -w 99; echo log-complete; exec sleep 3600`,
        ],
      });
      const talkerId = (JSON.parse(talker) as { Id: string }).Id;
      made.push(talkerId);
      await gateway.call('POST', `/v1.41/containers/${talkerId}/start`);
      const deadline = Date.now() + 600_000;
      while (
        !(await direct.call('GET', `/v1.41/containers/${talkerId}/logs?stdout=1&tail=1`)).includes(
          'log-complete',
        )
      ) {
        if (Date.now() > deadline) throw new Error('the talker did not write its log within 10 minutes');
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      const logPath = `/v1.41/containers/${talkerId}/logs?stdout=1`;
      const streamed = await direct.drain(logPath);
      const logs = await measureInterleaved(
        (['direct', 'gateway'] as const).map((variant) => ({
          name: `docker logs of a ${logBytes / 1e6} MB log (bytes/s)`,
          variant: variant === 'direct' ? 'dockerd socket' : 'gateway socket',
          eventsPerRepetition: streamed,
          warmup: 1,
          repetitions: quick ? 2 : 5,
          run: async () => {
            await (variant === 'direct' ? direct : gateway).drain(logPath);
          },
          ...(variant === 'gateway' ? { baseline: 'dockerd socket', targetRatio: 0.9 } : {}),
        })),
      );

      // ds01d's memory with 100 connections open (each following the event stream).
      const pid = daemon.child.pid!;
      const idleRss = rssOf(pid);
      const followers = Array.from({ length: 100 }, () => gateway.follow('/v1.41/events'));
      await Promise.all(followers.map((f) => f.ready));
      await new Promise((resolve) => setTimeout(resolve, 500));
      const busyRss = rssOf(pid);
      for (const f of followers) f.close();

      const added = (results: BenchResult[], p: 'medianMs' | 'p99Ms') => results[1]![p] - results[0]![p];
      const verdict = (ms: number, target: number) =>
        `${ms.toFixed(2)} ms (target ≤ ${target} ms: ${ms <= target ? 'met' : 'MISSED'})`;
      bench.description =
        'ds01d (a child process) serves a user socket in front of the test dockerd; the same calls go to both ' +
        'sockets, interleaved, on keep-alive connections. Added latency by the gateway: ' +
        `docker ps median ${verdict(added(ps, 'medianMs'), 5)}, p99 ${verdict(added(ps, 'p99Ms'), 20)}; ` +
        `inspect by id median ${verdict(added(inspect, 'medianMs'), 5)}, p99 ${verdict(added(inspect, 'p99Ms'), 20)}; ` +
        `inspect by name median ${verdict(added(inspectByName, 'medianMs'), 5)}, ` +
        `p99 ${verdict(added(inspectByName, 'p99Ms'), 20)} (a name or prefix is resolved by dockerd first: two ` +
        'daemon calls; a full id the gateway knows is owned: one). ' +
        `ds01d RSS ${(idleRss / 2 ** 20).toFixed(0)} MiB with no connection, ${(busyRss / 2 ** 20).toFixed(0)} MiB with 100 ` +
        'connections following /events. The logs rows count bytes as "events".';
      console.log(`  ${bench.description}`);
      direct.close();
      gateway.close();
      return [...ps, ...inspect, ...inspectByName, ...logs];
    } finally {
      await Promise.all(
        made.map((id) =>
          docker
            .getContainer(id)
            .remove({ force: true })
            .catch(() => {}),
        ),
      );
      await daemon.stop();
    }
  },
};

export default bench;

/** Keep-alive HTTP calls over one unix socket path. */
class Client {
  readonly #socketPath: string;
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 200 });

  constructor(socketPath: string) {
    this.#socketPath = socketPath;
  }

  call(method: string, path: string, body?: unknown): Promise<string> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const request = http.request(
        {
          socketPath: this.#socketPath,
          agent: this.#agent,
          method,
          path,
          headers: payload
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
            : {},
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.once('end', () => {
            const text = Buffer.concat(chunks).toString();
            if ((response.statusCode ?? 500) >= 300)
              reject(new Error(`${method} ${path}: ${response.statusCode} ${text}`));
            else resolve(text);
          });
        },
      );
      request.once('error', reject);
      request.end(payload);
    });
  }

  /** Reads a whole response without keeping it; resolves with its size in bytes. */
  drain(path: string): Promise<number> {
    return new Promise((resolve, reject) => {
      http
        .get({ socketPath: this.#socketPath, agent: this.#agent, path }, (response) => {
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
          });
          response.once('end', () =>
            response.statusCode === 200
              ? resolve(size)
              : reject(new Error(`GET ${path}: ${response.statusCode}`)),
          );
          response.once('error', reject);
        })
        .once('error', reject);
    });
  }

  /** A streaming request held open (its own connection); `ready` once the answer's head came. */
  follow(path: string): { ready: Promise<void>; close: () => void } {
    const request = http.get({ socketPath: this.#socketPath, path, agent: false });
    const ready = new Promise<void>((resolve, reject) => {
      request.once('response', () => resolve());
      request.once('error', reject);
    });
    return { ready, close: () => request.destroy() };
  }

  close(): void {
    this.#agent.destroy();
  }
}

async function waitForSocket(path: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await new Client(path).call('GET', '/_ping');
      return;
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(`the gateway socket ${path} did not answer: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}
