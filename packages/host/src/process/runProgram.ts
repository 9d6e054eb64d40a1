import { type ChildProcess, spawn } from 'node:child_process';
import {
  ProgramNotFoundError,
  ProgramOutputTooLargeError,
  ProgramStartError,
  ProgramTimeoutError,
} from './errors.ts';

export interface RunProgramOptions {
  /**
   * The deadline: the call settles by then, however the program behaves. Covers its exit and the
   * closing of its output (a child of it that inherited stdout keeps the pipe open after it exits).
   */
  timeoutMs: number;
  /** After SIGTERM at the deadline, SIGKILL this much later (default 1000 ms). */
  killAfterMs?: number;
  /** The whole environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Kill the program when stdout and stderr together grow past this (default 64 MiB). */
  maxBytes?: number;
  /** For messages: the command as a person would type it (default: the binary and its arguments). */
  display?: string;
}

/** How a program that ran to its end ended: a non-zero exit is a result, not an error (getent exits 2). */
export interface ProgramResult {
  stdout: string;
  stderr: string;
  /** null when a signal ended it. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

const DEFAULT_KILL_AFTER_MS = 1000;
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Runs a program (stdin closed) and collects its output, with a deadline that holds even when the
 * program cannot be killed: at the deadline it rejects with ProgramTimeoutError, sends SIGTERM to
 * the program's process group (so grandchildren holding the pipe go too), SIGKILL a second later,
 * and leaves: its pipes are destroyed and the process unreferenced, never awaited. A driver stuck in
 * uninterruptible sleep keeps nvidia-smi alive through SIGKILL; DS01 goes on without it.
 * Rejects with ProgramNotFoundError / ProgramStartError when it cannot start.
 */
export function runProgram(
  binary: string,
  args: readonly string[],
  options: RunProgramOptions,
): Promise<ProgramResult> {
  const command = options.display ?? [binary, ...args].join(' ');
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      // Its own process group: the deadline's signals reach whatever it started.
      child = spawn(binary, [...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: options.env,
        detached: true,
      });
    } catch (error) {
      reject(new ProgramStartError(command, (error as Error).message, { cause: error }));
      return;
    }
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let bytes = 0;
    let exited = false;
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      outcome();
    };
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > maxBytes) {
        settle(() => reject(new ProgramOutputTooLargeError(command, maxBytes)));
        abandon(child, options.killAfterMs);
        return;
      }
      into.push(chunk);
    };
    child.stdout!.on('data', collect(stdout));
    child.stderr!.on('data', collect(stderr));
    const text = (chunks: Buffer[]) => Buffer.concat(chunks).toString('utf8');
    const deadline = setTimeout(() => {
      settle(() =>
        reject(
          new ProgramTimeoutError(command, {
            timeoutMs: options.timeoutMs,
            exited,
            stdout: text(stdout),
            stderr: text(stderr),
          }),
        ),
      );
      abandon(child, options.killAfterMs);
    }, options.timeoutMs);
    child.on('exit', () => {
      exited = true;
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      settle(() =>
        reject(
          error.code === 'ENOENT'
            ? new ProgramNotFoundError(command, binary, { cause: error })
            : new ProgramStartError(command, error.message, { cause: error }),
        ),
      );
      abandon(child, options.killAfterMs);
    });
    // 'close': exited and both pipes closed, so the output is complete.
    child.on('close', (exitCode: number | null, signal: NodeJS.Signals | null) => {
      settle(() => resolve({ stdout: text(stdout), stderr: text(stderr), exitCode, signal }));
    });
  });
}

/** Children given up on whose SIGKILL is still due: sent at once if this process exits first. */
const awaitingKill = new Set<ChildProcess>();
let killOnExitInstalled = false;

/** SIGTERM now, SIGKILL later, pipes and process let go of: nothing here waits on the child again. */
function abandon(child: ChildProcess, killAfterMs = DEFAULT_KILL_AFTER_MS): void {
  signalGroup(child, 'SIGTERM');
  awaitingKill.add(child);
  if (!killOnExitInstalled) {
    killOnExitInstalled = true;
    // A daemon that stops within the grace period must not leave a SIGTERM-proof child behind.
    process.on('exit', () => {
      for (const pending of awaitingKill) signalGroup(pending, 'SIGKILL');
    });
  }
  const kill = () => {
    awaitingKill.delete(child);
    signalGroup(child, 'SIGKILL');
  };
  setTimeout(kill, killAfterMs).unref();
  child.once('exit', () => awaitingKill.delete(child));
  child.stdout?.destroy();
  child.stderr?.destroy();
  child.unref();
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is gone already (or never formed): the child alone, if it is still there.
    try {
      child.kill(signal);
    } catch {
      // Gone.
    }
  }
}
