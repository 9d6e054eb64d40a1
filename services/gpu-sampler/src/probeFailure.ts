import type { GpuProbeFailure } from '@ds01/domain';
import {
  NvidiaError,
  NvidiaInconsistentOutputError,
  NvidiaOutputError,
  NvidiaSmiFailedError,
} from '@ds01/host';

/**
 * The GpuProbeFailed a probe error stands for, or null when the error is not about the GPUs (a bug
 * in DS01, which is logged, never recorded as a GPU fact).
 */
export function probeFailureOf(error: unknown): GpuProbeFailure | null {
  if (!(error instanceof NvidiaError)) return null;
  const common = { command: error.command, message: error.message };
  if (error instanceof NvidiaSmiFailedError)
    return { ...common, reason: error.kind, exitCode: error.exitCode };
  if (error instanceof NvidiaOutputError) return { ...common, reason: 'garbled', exitCode: null };
  if (error instanceof NvidiaInconsistentOutputError)
    return { ...common, reason: 'inconsistent', exitCode: null };
  return { ...common, reason: 'garbled', exitCode: null };
}
