import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processExists, waitUntil } from '../../../../test/support/waitUntil.ts';
import {
  ProgramNotFoundError,
  ProgramOutputTooLargeError,
  ProgramStartError,
  ProgramTimeoutError,
  runProgram,
} from '../../src/process/index.ts';

const TIMEOUT_MS = 400;
/** How late past its deadline a call may settle: an event-loop turn on a busy 2-core machine. */
const MARGIN_MS = 400;

describe('runProgram (real child processes)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ds01-run-program-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** An executable sh script in the scratch folder. */
  function script(body: string): string {
    const file = join(dir, 'program');
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, 0o755);
    return file;
  }

  /** The time a call takes to settle, and how it settled. */
  async function timed(promise: Promise<unknown>): Promise<{ ms: number; error: unknown }> {
    const started = performance.now();
    try {
      await promise;
      return { ms: performance.now() - started, error: null };
    } catch (error) {
      return { ms: performance.now() - started, error };
    }
  }

  it('returns stdout, stderr and the exit code; a non-zero exit is a result', async () => {
    const result = await runProgram(script('echo out; echo err >&2; exit 3'), [], { timeoutMs: 10_000 });
    expect(result).toEqual({ stdout: 'out\n', stderr: 'err\n', exitCode: 3, signal: null });
  });

  it('returns at the deadline when the program exits but a child of it keeps stdout open', async () => {
    const pidFile = join(dir, 'grandchild');
    // The grandchild inherits stdout and sleeps; the program itself exits at once.
    const program = script(`sleep 30 & echo $! > '${pidFile}'; echo started; exit 0`);
    const { ms, error } = await timed(runProgram(program, [], { timeoutMs: TIMEOUT_MS }));
    expect(error).toBeInstanceOf(ProgramTimeoutError);
    expect(error).toMatchObject({ exited: true, stdout: 'started\n', timeoutMs: TIMEOUT_MS });
    expect((error as Error).message).toMatch(/kept its output open past 400 ms; stopped waiting/);
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    expect(ms).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    await waitUntil(() => !processExists(grandchild), `the grandchild (pid ${grandchild}) to be killed`);
  });

  it('returns at the deadline when the program ignores SIGTERM, and SIGKILL ends it later', async () => {
    const pidFile = join(dir, 'pid');
    const program = script(`trap '' TERM; echo $$ > '${pidFile}'; while :; do sleep 0.05; done`);
    const { ms, error } = await timed(runProgram(program, [], { timeoutMs: TIMEOUT_MS, killAfterMs: 300 }));
    expect(error).toBeInstanceOf(ProgramTimeoutError);
    expect(error).toMatchObject({ exited: false });
    expect((error as Error).message).toBe(
      `${program}: did not finish within 400 ms; stopped waiting and sent it SIGTERM, then SIGKILL`,
    );
    expect(ms).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await waitUntil(() => !processExists(pid), `the SIGTERM-proof program (pid ${pid}) to be SIGKILLed`);
  });

  it('returns at the deadline when both hold: it ignores SIGTERM and a child keeps the pipe', async () => {
    const program = script(`trap '' TERM; sleep 30 & while :; do sleep 0.05; done`);
    const { ms, error } = await timed(runProgram(program, [], { timeoutMs: TIMEOUT_MS }));
    expect(error).toBeInstanceOf(ProgramTimeoutError);
    expect(ms).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
  });

  it('names a program that does not exist', async () => {
    const error = await runProgram(join(dir, 'missing'), ['-x'], { timeoutMs: 10_000 }).catch((e) => e);
    expect(error).toBeInstanceOf(ProgramNotFoundError);
    expect(error.command).toBe(`${join(dir, 'missing')} -x`);
  });

  it('says why a program cannot be started', async () => {
    const program = script('echo never');
    chmodSync(program, 0o644);
    const error = await runProgram(program, [], { timeoutMs: 10_000 }).catch((e) => e);
    expect(error).toBeInstanceOf(ProgramStartError);
    expect(error.message).toMatch(/could not be run: .*EACCES/);
  });

  it('kills a program that writes more than allowed', async () => {
    const error = await runProgram(script('yes'), [], { timeoutMs: 10_000, maxBytes: 100_000 }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(ProgramOutputTooLargeError);
  });
});
