import {
  ProgramError,
  ProgramNotFoundError,
  type ProgramResult,
  ProgramTimeoutError,
  runProgram,
} from '../process/index.ts';
import { NvidiaSmiFailedError } from './errors.ts';

export interface RunNvidiaSmiOptions {
  /** The nvidia-smi binary; tests point it at a script. Default: "nvidia-smi" from PATH. */
  binary?: string;
  /**
   * Stop waiting (and kill it) after this long: nvidia-smi takes seconds without persistence mode and
   * hangs on a lost GPU, often where not even SIGKILL ends it.
   */
  timeoutMs: number;
}

export const DEFAULT_NVIDIA_SMI = 'nvidia-smi';

/** "nvidia-smi -q -x" for messages and events, whatever the binary's path. */
export function describeCommand(args: readonly string[]): string {
  return ['nvidia-smi', ...args].join(' ');
}

/**
 * Runs nvidia-smi and returns its stdout. A run that times out, cannot start, is killed or exits
 * non-zero is an NvidiaSmiFailedError saying which, with what it printed (nvidia-smi writes its
 * reasons, "No devices were found", "NVIDIA-SMI has failed…", to stdout).
 */
export async function runNvidiaSmi(args: readonly string[], options: RunNvidiaSmiOptions): Promise<string> {
  const command = describeCommand(args);
  const binary = options.binary ?? DEFAULT_NVIDIA_SMI;
  let result: ProgramResult;
  try {
    result = await runProgram(binary, args, {
      timeoutMs: options.timeoutMs,
      display: command,
      // Readable, untranslated output whatever the service's locale.
      env: { ...process.env, LC_ALL: 'C' },
    });
  } catch (error) {
    throw failureOf(command, binary, options.timeoutMs, error);
  }
  const output = [result.stderr.trim(), result.stdout.trim()].filter(Boolean).join('\n');
  if (result.exitCode === 0) return result.stdout;
  if (result.exitCode !== null) {
    throw new NvidiaSmiFailedError(command, 'exit-code', {
      exitCode: result.exitCode,
      output,
      message: `exited with code ${result.exitCode}${output ? `: ${lastLine(output)}` : ''}`,
    });
  }
  throw new NvidiaSmiFailedError(command, 'signal', { output, message: `was killed by ${result.signal}` });
}

function failureOf(command: string, binary: string, timeoutMs: number, error: unknown): NvidiaSmiFailedError {
  if (error instanceof ProgramTimeoutError) {
    const output = [error.stderr.trim(), error.stdout.trim()].filter(Boolean).join('\n');
    return new NvidiaSmiFailedError(command, 'timeout', {
      output,
      message: error.exited
        ? `exited, but a process it started kept its output open past ${timeoutMs} ms; stopped waiting`
        : `did not finish within ${timeoutMs} ms and was killed (a GPU that stopped responding?)`,
    });
  }
  if (error instanceof ProgramNotFoundError) {
    return new NvidiaSmiFailedError(command, 'not-found', {
      message: `${binary} was not found: install the NVIDIA driver, or set gpus.mode to "simulated" in ds01.yaml`,
    });
  }
  const problem = error instanceof ProgramError ? error.problem : `could not be run: ${String(error)}`;
  return new NvidiaSmiFailedError(command, 'spawn', { message: problem }, { cause: error });
}

function lastLine(text: string): string {
  return (
    text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .at(-1) ?? ''
  );
}
