import { Ds01Error } from '@ds01/errors';
/** Base of every error about nvidia-smi, so callers can tell GPU probe trouble from bugs. */
export class NvidiaError extends Ds01Error {
  override name = 'NvidiaError';
  /** The command line as a person would type it, e.g. "nvidia-smi -q -x". */
  readonly command: string;
  constructor(command: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.command = command;
  }
}

/**
 * nvidia-smi printed something its parser cannot read: truncated XML, a CSV row with the wrong
 * number of columns, a line that is neither a GPU nor a MIG device, binary junk, nothing at all.
 */
export class NvidiaOutputError extends NvidiaError {
  override name = 'NvidiaOutputError';
  /** Where in the output: "line 3", "<gpu> #2 > <mig_devices>", "column 'memory.total [MiB]'"... */
  readonly location: string;
  /** What was found there, cut to a readable length ('' when nothing was). */
  readonly found: string;
  constructor(command: string, location: string, problem: string, found = '', options?: { cause?: unknown }) {
    super(
      command,
      `${command}: ${location}: ${problem}${found ? ` (found: ${JSON.stringify(excerpt(found))})` : ''}. ` +
        'Check that nvidia-smi works on the host (run it by hand); if its output format changed, ' +
        'save the output as a fixture and report it.',
      options,
    );
    this.location = location;
    this.found = excerpt(found);
  }
}

/** Outputs of two nvidia-smi calls that cannot both be true (a MIG reconfiguration between them). */
export class NvidiaInconsistentOutputError extends NvidiaError {
  override name = 'NvidiaInconsistentOutputError';
  constructor(command: string, problem: string) {
    super(
      command,
      `${command}: ${problem}. The GPUs probably changed between the calls; the next probe retries.`,
    );
  }
}

/** How running nvidia-smi went wrong, before any output could be read. */
export type NvidiaSmiFailureKind = 'timeout' | 'exit-code' | 'not-found' | 'signal' | 'spawn';

/** nvidia-smi could not be run, ran too long, or exited with an error. */
export class NvidiaSmiFailedError extends NvidiaError {
  override name = 'NvidiaSmiFailedError';
  readonly kind: NvidiaSmiFailureKind;
  readonly exitCode: number | null;
  /** The end of what it wrote to stderr (nvidia-smi often writes its reason to stdout: that too). */
  readonly output: string;
  constructor(
    command: string,
    kind: NvidiaSmiFailureKind,
    detail: { exitCode?: number | null; output?: string; message: string },
    options?: { cause?: unknown },
  ) {
    super(command, `${command}: ${detail.message}`, options);
    this.kind = kind;
    this.exitCode = detail.exitCode ?? null;
    this.output = excerpt(detail.output ?? '', 500);
  }
}

/** Long or binary text cut to something a log line can show. */
export function excerpt(text: string, max = 120): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: binary junk is exactly what we replace
  const printable = text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\ufffd]/g, '?');
  return printable.length > max ? `${printable.slice(0, max)}…` : printable;
}
