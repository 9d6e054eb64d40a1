import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processExists, waitUntil } from '../../../../test/support/waitUntil.ts';
import { NvidiaSmiFailedError, runNvidiaSmi } from '../../src/nvidia/index.ts';
import { fixture, rejectionOf } from './captures.ts';
import { FakeNvidiaSmi } from './fakeNvidiaSmi.ts';

describe('runNvidiaSmi (a real child process)', () => {
  let fake: FakeNvidiaSmi;
  beforeEach(() => {
    fake = new FakeNvidiaSmi();
  });
  afterEach(() => fake.remove());

  it('returns what nvidia-smi prints, byte for byte', async () => {
    fake.serves({ list: 'text/a100-sxm4-80gb-mig-list-gpu0-1.txt', xml: 'xml/a100-sxm4-80gb-mig-q-x-1.xml' });
    const output = await runNvidiaSmi(['-q', '-x'], { binary: fake.binary, timeoutMs: 10_000 });
    expect(output).toBe(fixture('xml/a100-sxm4-80gb-mig-q-x-1.xml'));
  });

  it('passes the arguments as given, in the C locale', async () => {
    fake.script('printf "%s|" "$@"; echo "$LC_ALL"');
    const output = await runNvidiaSmi(['--query-gpu=index,uuid', '--format=csv'], {
      binary: fake.binary,
      timeoutMs: 10_000,
    });
    expect(output).toBe('--query-gpu=index,uuid|--format=csv|C\n');
  });

  it('kills a run that takes longer than the timeout, and says so', async () => {
    const pidFile = join(fake.dir, 'pid');
    fake.script(`echo $$ > '${pidFile}'; exec sleep 30`);
    const error = await rejectionOf<NvidiaSmiFailedError>(
      runNvidiaSmi(['-q', '-x'], { binary: fake.binary, timeoutMs: 300 }),
    );
    expect(error).toBeInstanceOf(NvidiaSmiFailedError);
    expect(error.kind).toBe('timeout');
    expect(error.command).toBe('nvidia-smi -q -x');
    expect(error.message).toBe(
      'nvidia-smi -q -x: did not finish within 300 ms and was killed (a GPU that stopped responding?)',
    );
    const pid = Number(readFileSync(pidFile, 'utf8'));
    // The call returns at the deadline; the kill follows it.
    await waitUntil(() => !processExists(pid), `the timed-out fake nvidia-smi (pid ${pid}) to be killed`);
  });

  it('reports a non-zero exit with the reason nvidia-smi printed', async () => {
    fake.script(
      'echo "NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running."\nexit 9',
    );
    const error = await rejectionOf<NvidiaSmiFailedError>(
      runNvidiaSmi(['-L'], { binary: fake.binary, timeoutMs: 10_000 }),
    );
    expect(error.kind).toBe('exit-code');
    expect(error.exitCode).toBe(9);
    expect(error.message).toMatch(
      /^nvidia-smi -L: exited with code 9: NVIDIA-SMI has failed because it couldn't communicate/,
    );
    expect(error.output).toMatch(/^NVIDIA-SMI has failed/);
  });

  it('reports "No devices were found" (exit 6) with stderr and stdout', async () => {
    fake.script('echo "No devices were found"; echo "warning on stderr" >&2; exit 6');
    const error = await rejectionOf<NvidiaSmiFailedError>(
      runNvidiaSmi(['-L'], { binary: fake.binary, timeoutMs: 10_000 }),
    );
    expect(error).toMatchObject({ kind: 'exit-code', exitCode: 6 });
    expect(error.output).toBe('warning on stderr\nNo devices were found');
  });

  it('reports a binary that does not exist and what to do', async () => {
    const error = await rejectionOf<NvidiaSmiFailedError>(
      runNvidiaSmi(['-L'], { binary: join(fake.dir, 'missing', 'nvidia-smi'), timeoutMs: 10_000 }),
    );
    expect(error.kind).toBe('not-found');
    expect(error.message).toMatch(
      /was not found: install the NVIDIA driver, or set gpus.mode to "simulated"/,
    );
  });

  it('reports a run killed by a signal', async () => {
    fake.script('kill -KILL $$');
    const error = await rejectionOf<NvidiaSmiFailedError>(
      runNvidiaSmi(['-L'], { binary: fake.binary, timeoutMs: 10_000 }),
    );
    expect(error.kind).toBe('signal');
    expect(error.message).toBe('nvidia-smi -L: was killed by SIGKILL');
  });

  it('reports a binary that cannot be executed', async () => {
    fake.script('echo never');
    const { chmodSync } = await import('node:fs');
    chmodSync(fake.binary, 0o644);
    const error = await rejectionOf<NvidiaSmiFailedError>(
      runNvidiaSmi(['-L'], { binary: fake.binary, timeoutMs: 10_000 }),
    );
    expect(error).toBeInstanceOf(NvidiaSmiFailedError);
    expect(error.kind).toBe('spawn');
    expect(error.message).toMatch(/could not be run: .*EACCES/);
  });
});
