import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import type { TestDocker } from './docker.ts';

const run = promisify(execFile);

/**
 * A dockerd of a test's own, for tests that kill or restart the daemon (the shared test dockerd must
 * stay up for the suites running beside them). Same flags as the shared one (scripts/lib/services.sh),
 * its own socket, data root and exec root under /run/ds01-test/private-<name>. Needs root.
 */
export class PrivateDockerd {
  readonly name: string;
  readonly dir: string;
  readonly socketPath: string;
  readonly host: string;
  #process: ChildProcess | undefined;
  /** How the daemon ended when nobody asked it to (signal or exit code), for the failing test's message. */
  #unexpectedExit: string | undefined;
  #stopping = false;

  constructor(name: string) {
    this.name = name;
    this.dir = `/run/ds01-test/private-${name}`;
    this.socketPath = `${this.dir}/docker.sock`;
    this.host = `unix://${this.socketPath}`;
  }

  /** Starts it and waits until it answers (at most 60 s). */
  async start(): Promise<void> {
    await this.#stopLeftover();
    mkdirSync(`${this.dir}/exec`, { recursive: true });
    mkdirSync(`/var/lib/ds01-test/private-${this.name}`, { recursive: true });
    const log = openSync(`/var/lib/ds01-test/private-${this.name}/dockerd.log`, 'a');
    this.#process = spawn(
      'dockerd',
      [
        '--host',
        this.host,
        '--data-root',
        `/var/lib/ds01-test/private-${this.name}/docker`,
        '--exec-root',
        `${this.dir}/exec`,
        '--pidfile',
        `${this.dir}/dockerd.pid`,
        '--storage-driver=vfs',
        '--iptables=false',
        '--ip6tables=false',
        '--bridge=none',
      ],
      { stdio: ['ignore', log, log], detached: true },
    );
    this.#stopping = false;
    this.#unexpectedExit = undefined;
    this.#process.once('exit', (code, signal) => {
      if (!this.#stopping) this.#unexpectedExit = signal ? `killed by ${signal}` : `exited with code ${code}`;
    });
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await this.docker('version', '--format', '{{.Server.Version}}');
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`private dockerd ${this.name} did not start: ${error}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  /**
   * A dockerd of this name left running by a test run that was killed (it is started detached) holds
   * the pid file and socket: stop it, as SIGTERM would have, before starting afresh.
   */
  async #stopLeftover(): Promise<void> {
    if (this.#process) return;
    const pid = Number(readFileSafe(`${this.dir}/dockerd.pid`));
    if (!(pid > 0) || !alive(pid)) return;
    process.kill(pid, 'SIGKILL');
    for (let i = 0; alive(pid) && i < 100; i++) await new Promise((r) => setTimeout(r, 50));
    rmSync(`${this.dir}/dockerd.pid`, { force: true });
  }

  /** Copies the shared test image in (docker save | docker load). */
  async loadImageFrom(td: TestDocker): Promise<void> {
    await run('sh', ['-c', `docker -H ${td.host} save ${td.image} | docker -H ${this.host} load -q`]);
  }

  docker(...args: string[]): Promise<string> {
    return run('docker', ['-H', this.host, ...args]).then((r) => r.stdout.trim());
  }

  /**
   * Kills the daemon outright (SIGKILL, no clean shutdown), as a crash would. Its containerd and the
   * containers' shims live on, as they do on a real host; the next start() picks them up again.
   */
  async kill(): Promise<void> {
    const child = this.#process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    this.#stopping = true;
    child.kill('SIGKILL');
    await exited;
    rmSync(`${this.dir}/dockerd.pid`, { force: true });
    // dockerd's containerd dies with it (parent-death signal) but takes a moment: a restart that still
    // finds it alive waits for it and times out. Wait until it is gone (or clearly stays).
    const containerd = Number(readFileSafe(`${this.dir}/exec/containerd/containerd.pid`));
    for (let i = 0; containerd > 0 && alive(containerd) && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops it cleanly (it stops its containers and its containerd). */
  async stop(): Promise<void> {
    const child = this.#process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    this.#stopping = true;
    child.kill('SIGTERM');
    await exited;
  }

  /**
   * Null while the daemon runs or was stopped by this test; otherwise how it ended and the end of its
   * log: a test failing with "socket hang up" then says why.
   */
  unexpectedExit(): string | null {
    if (this.#unexpectedExit === undefined) return null;
    const log = readFileSafe(`/var/lib/ds01-test/private-${this.name}/dockerd.log`);
    return `private dockerd ${this.name} ${this.#unexpectedExit}; its log ends:\n${log.split('\n').slice(-30).join('\n')}`;
  }

  /** Stops it, removes its containers and data (its log is printed first when it died on its own). */
  async destroy(): Promise<void> {
    const died = this.unexpectedExit();
    if (died) console.error(died);
    try {
      await this.docker('rm', '-f', ...(await this.docker('ps', '-aq')).split('\n').filter(Boolean));
    } catch {
      // no containers, or the daemon is down
    }
    await this.stop();
    const containerd = Number(readFileSafe(`${this.dir}/exec/containerd/containerd.pid`));
    if (containerd > 0) {
      try {
        process.kill(containerd, 'SIGTERM');
      } catch {
        // already gone with its dockerd
      }
    }
    const dataRoot = `/var/lib/ds01-test/private-${this.name}/docker`;
    // dockerd bind-mounts its data root onto itself, and network namespaces under its exec root: what is
    // still mounted under either is unmounted (deepest first) before removing.
    const mounted = readFileSafe('/proc/self/mounts')
      .split('\n')
      .map((line) => line.split(' ')[1] ?? '')
      .filter(
        (point) => point.startsWith(`${this.dir}/`) || point === dataRoot || point.startsWith(`${dataRoot}/`),
      )
      .sort((a, b) => b.length - a.length);
    for (const point of mounted) await run('umount', ['-l', point]).catch(() => {});
    rmSync(`/var/lib/ds01-test/private-${this.name}`, { recursive: true, force: true });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
