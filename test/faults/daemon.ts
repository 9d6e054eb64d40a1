import { join } from 'node:path';
import { ownGateway } from '../support/ds01d.ts';
import { type RunningChild, startChild } from './childProcess.ts';
import type { Site } from './site.ts';

const DS01D = join(import.meta.dirname, '..', '..', 'services', 'ds01d', 'bin', 'ds01d.js');

export class DaemonDidNotStartError extends Error {
  override readonly name = 'DaemonDidNotStartError';
  /** It did not start because the harness killed it first (a kill during start-up). */
  readonly killedByHarness: boolean;
  constructor(message: string, killedByHarness = false) {
    super(message);
    this.killedByHarness = killedByHarness;
  }
}

export class DaemonExitedError extends Error {
  override readonly name = 'DaemonExitedError';
}

/**
 * ds01d as a real process on the harness's site. It runs on this Node (24: no launcher re-exec in
 * between), so a SIGKILL reaches ds01d itself and nothing else.
 */
export class DaemonProcess {
  readonly #site: Site;
  #running: RunningChild | undefined;
  #killed = new WeakSet<RunningChild>();
  /** Output of every run, kept to explain a failure. */
  readonly logs: string[] = [];
  /** What the running ds01d printed so far. */
  #seen = '';

  constructor(site: Site) {
    this.#site = site;
  }

  /** Starts ds01d and waits for its "ds01d ready" line (at most `timeoutMs`). */
  async start(timeoutMs = 60_000): Promise<void> {
    const gateway = ownGateway();
    const running = startChild(
      process.execPath,
      [DS01D, '--data-dir', this.#site.dataDir, '--config-dir', this.#site.configDir],
      {
        env: {
          ...process.env,
          DS01_LOG_LEVEL: 'info',
          DOCKER_HOST: this.#site.dockerHost,
          DS01_EXPORTER_PORT: '0',
          DS01_GATEWAY_USERS_DIR: gateway.usersDir,
        },
      },
    );
    void running.done.then(gateway.remove);
    this.#running = running;
    this.#seen = '';
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        running.kill();
        reject(
          new DaemonDidNotStartError(
            `ds01d did not log "ds01d ready" within ${timeoutMs} ms: ${tail(this.#seen)}`,
          ),
        );
      }, timeoutMs);
      running.child.stdout!.on('data', (chunk: Buffer) => {
        this.#seen += chunk.toString();
        if (this.#seen.includes('"msg":"ds01d ready"')) {
          clearTimeout(timer);
          resolve();
        }
      });
      void running.done.then((result) => {
        clearTimeout(timer);
        reject(
          new DaemonDidNotStartError(
            `ds01d exited (${result.code ?? result.signal}) before "ds01d ready": ${tail(result.stdout + result.stderr)}`,
            this.#killed.has(running),
          ),
        );
      });
    });
    try {
      await ready;
    } finally {
      void running.done.then((result) => this.logs.push(result.stdout + result.stderr));
    }
  }

  /** Waits until the running ds01d logs a line with this `msg` (at most `timeoutMs`). */
  async waitForMessage(msg: string, timeoutMs: number): Promise<void> {
    const running = this.#running;
    if (!running) throw new Error(`ds01d is not running: it cannot log "${msg}"`);
    const needle = `"msg":${JSON.stringify(msg)}`;
    const deadline = Date.now() + timeoutMs;
    while (!this.#seen.includes(needle)) {
      if (running.child.exitCode !== null || running.child.signalCode !== null)
        throw new Error(`ds01d exited before logging "${msg}": ${tail(this.#seen)}`);
      if (Date.now() > deadline)
        throw new Error(`ds01d did not log "${msg}" within ${timeoutMs} ms: ${tail(this.#seen)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /**
   * SIGKILL: no clean shutdown, as a crash or the OOM killer would end it. Throws when ds01d had
   * already exited by itself (a crash the harness did not cause is a finding, not a kill).
   */
  async kill(): Promise<void> {
    const running = this.#running;
    this.#running = undefined;
    if (!running) return;
    const { child } = running;
    const exitedBefore = child.exitCode !== null || child.signalCode !== null;
    this.#killed.add(running);
    running.kill();
    const result = await running.done;
    if (exitedBefore) {
      throw new DaemonExitedError(
        `ds01d exited by itself (${result.code ?? result.signal}) before the harness killed it: ${tail(result.stdout + result.stderr)}`,
      );
    }
  }

  /** SIGTERM, and waits until it has exited; throws when it did not exit 0. */
  async stop(): Promise<void> {
    const running = this.#running;
    this.#running = undefined;
    if (!running) return;
    running.child.kill('SIGTERM');
    const result = await running.done;
    if (result.code !== 0) {
      throw new Error(
        `ds01d did not stop cleanly (${result.code ?? result.signal}): ${tail(result.stdout + result.stderr)}`,
      );
    }
  }
}

function tail(text: string): string {
  return text.length > 2000 ? `…${text.slice(-2000)}` : text;
}
