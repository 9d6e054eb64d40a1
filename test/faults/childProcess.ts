import { type ChildProcess, spawn } from 'node:child_process';

/** How a child process ended: its exit code, or the signal that ended it. */
export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A child process whose output is kept, with a way to end it as a crash would. */
export interface RunningChild {
  child: ChildProcess;
  done: Promise<ChildResult>;
  /** SIGKILL, unless it has already exited. */
  kill(): void;
}

/** Spawns a command and collects its output; `done` resolves (never rejects) when it has exited. */
export function startChild(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv } = {},
): RunningChild {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const done = new Promise<ChildResult>((resolve) => {
    child.on('error', (error) => resolve({ code: null, signal: null, stdout, stderr: `${error.message}` }));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return {
    child,
    done,
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
