import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * ds01d and ds01 as real processes, through their launchers, for end-to-end suites.
 *
 *   const daemon = startDs01d({ dataDir, configDir, dockerHost: td.host });
 *   await daemon.waitFor((line) => line.msg === 'ds01d ready', 'ds01d ready');
 *   const { code, stdout, stderr } = await runDs01(['gpu', 'status'], { dataDir, configDir });
 *   await daemon.stop();
 */

const ROOT = join(import.meta.dirname, '..', '..');
const DS01D = join(ROOT, 'services', 'ds01d', 'bin', 'ds01d.js');
const DS01 = join(ROOT, 'packages', 'cli', 'bin', 'ds01.js');

export type LogLine = Record<string, unknown> & { msg?: string; level?: string };

export interface Ds01dProcess {
  child: ChildProcess;
  /** Every JSON line of its stdout so far. */
  lines: LogLine[];
  /** Its stderr so far (a launcher error, a crash before logging). */
  stderr(): string;
  /** The first line (seen or to come) that passes `matches`; rejects when ds01d exits or after `timeoutMs`. */
  waitFor(matches: (line: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
  /** Resolves with the exit code. */
  exit: Promise<number | null>;
  /** SIGTERM, then the exit code (SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<number | null>;
}

export interface Ds01dOptions {
  dataDir: string;
  configDir: string;
  /** DOCKER_HOST for its docker watcher and switch-over: the test dockerd, or a socket that does not exist. */
  dockerHost: string;
  logLevel?: string;
  /** Where its gateway serves the user sockets; default a folder of its own (see ownGateway). */
  gatewayUsersDir?: string;
}

/**
 * A gateway folder of one ds01d's own, to pass as DS01_GATEWAY_USERS_DIR: ds01d's that suites run side
 * by side must never serve, and take over, the host's /run/ds01 sockets at once. `remove` when done.
 */
export function ownGateway(): { usersDir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'ds01-gw-'));
  return { usersDir: join(dir, 'users'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function startDs01d(options: Ds01dOptions): Ds01dProcess {
  const gateway = options.gatewayUsersDir === undefined ? ownGateway() : undefined;
  const child = spawn(
    process.execPath,
    [DS01D, '--data-dir', options.dataDir, '--config-dir', options.configDir],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        DS01_LOG_LEVEL: options.logLevel ?? 'debug',
        DOCKER_HOST: options.dockerHost,
        // Suites run ds01d side by side: each exporter on a port of its own, each gateway in its own folder.
        DS01_EXPORTER_PORT: '0',
        DS01_GATEWAY_USERS_DIR: options.gatewayUsersDir ?? gateway!.usersDir,
      },
    },
  );
  if (gateway) child.on('exit', gateway.remove);
  const lines: LogLine[] = [];
  const waiters: { matches: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];
  let buffer = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const complete = buffer.split('\n');
    buffer = complete.pop()!;
    for (const text of complete) {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { level: 'not-json', msg: text };
      }
      lines.push(line);
      for (const waiter of waiters.filter((w) => w.matches(line))) waiter.resolve(line);
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const tail = () =>
    lines
      .slice(-8)
      .map((l) => `${l.level}: ${l.msg}${typeof l['reason'] === 'string' ? ` (${l['reason']})` : ''}`)
      .join('\n  ');
  return {
    child,
    lines,
    exit,
    stderr: () => stderr,
    waitFor(matches, what, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const seen = lines.find(matches);
        if (seen) return resolve(seen);
        const timer = setTimeout(
          () =>
            reject(
              new Error(`ds01d did not log ${what} within ${timeoutMs} ms; its last lines:\n  ${tail()}`),
            ),
          timeoutMs,
        );
        waiters.push({
          matches,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
        void exit.then((code) => {
          clearTimeout(timer);
          reject(new Error(`ds01d exited (${code}) before it logged ${what}:\n  ${tail()}\n${stderr}`));
        });
      });
    },
    async stop(timeoutMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exit;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** The `ds01d ready` line. */
export const ready = (line: LogLine) => line.msg === 'ds01d ready';

export interface Ds01Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `ds01 --data-dir D --config-dir C ARGS...` to its end. */
export function runDs01(
  args: readonly string[],
  options: { dataDir: string; configDir: string },
): Promise<Ds01Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [DS01, '--data-dir', options.dataDir, '--config-dir', options.configDir, ...args],
      { env: { ...process.env, COLUMNS: '200' } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/**
 * A config dir for a test: the checkout's example configuration (config/), with ds01.yaml naming
 * the host and `edit` applied to resource-limits.yaml's text.
 */
export function labConfigDir(
  into: string,
  options: { host: string; editLimits?: (yaml: string) => string },
): string {
  cpSync(join(ROOT, 'config'), into, { recursive: true });
  const ds01Yaml = join(into, 'ds01.yaml');
  writeFileSync(ds01Yaml, `host: ${options.host}\n${readFileSync(ds01Yaml, 'utf8')}`);
  if (options.editLimits) {
    const limits = join(into, 'resource-limits.yaml');
    writeFileSync(limits, options.editLimits(readFileSync(limits, 'utf8')));
  }
  return into;
}
