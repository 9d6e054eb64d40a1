import { execa } from 'execa';
import { NvidiaSmiFailedError } from './errors.ts';

export interface RunNvidiaSmiOptions {
  /** The nvidia-smi binary; tests point it at a script. Default: "nvidia-smi" from PATH. */
  binary?: string;
  /** Kill it after this long. nvidia-smi takes seconds without persistence mode, hangs on a lost GPU. */
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
  const result = await execa(binary, args, {
    reject: false,
    timeout: options.timeoutMs,
    forceKillAfterDelay: 1000,
    stripFinalNewline: false,
    // Readable, untranslated output whatever the service's locale.
    env: { LC_ALL: 'C' },
    stdin: 'ignore',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (!result.failed) return result.stdout;
  const output = [result.stderr.trim(), result.stdout.trim()].filter(Boolean).join('\n');
  if (result.timedOut) {
    throw new NvidiaSmiFailedError(command, 'timeout', {
      output,
      message: `did not finish within ${options.timeoutMs} ms and was killed (a GPU that stopped responding?)`,
    });
  }
  if (result.code === 'ENOENT') {
    throw new NvidiaSmiFailedError(command, 'not-found', {
      message: `${binary} was not found: install the NVIDIA driver, or set gpus.mode to "simulated" in ds01.yaml`,
    });
  }
  if (result.exitCode !== undefined) {
    throw new NvidiaSmiFailedError(command, 'exit-code', {
      exitCode: result.exitCode,
      output,
      message: `exited with code ${result.exitCode}${output ? `: ${lastLine(output)}` : ''}`,
    });
  }
  if (result.signal) {
    throw new NvidiaSmiFailedError(command, 'signal', {
      output,
      message: `was killed by ${result.signal}`,
    });
  }
  throw new NvidiaSmiFailedError(
    command,
    'spawn',
    { output, message: `could not be run: ${result.shortMessage ?? 'unknown error'}` },
    { cause: result.cause },
  );
}

function lastLine(text: string): string {
  return (
    text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .at(-1) ?? ''
  );
}
