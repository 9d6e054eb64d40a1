import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  NvidiaInconsistentOutputError,
  NvidiaOutputError,
  type NvidiaSmiFailedError,
  probeNvidiaSmi,
} from '../../src/nvidia/index.ts';
import { fixture, rejectionOf } from './captures.ts';
import { FakeNvidiaSmi } from './fakeNvidiaSmi.ts';

describe('probeNvidiaSmi (nvidia-smi -L and -q -x, real child processes)', () => {
  let fake: FakeNvidiaSmi;
  beforeEach(() => {
    fake = new FakeNvidiaSmi();
  });
  afterEach(() => fake.remove());

  it('joins both outputs into the inventory and the processes', async () => {
    fake.serves({ list: 'text/a100-sxm4-80gb-mig-list-gpu0-1.txt', xml: 'xml/a100-sxm4-80gb-mig-q-x-1.xml' });
    const result = await probeNvidiaSmi({ binary: fake.binary, timeoutMs: 10_000 });
    expect(result.inventory.gpus.map((gpu) => [gpu.index, gpu.migSlots.length])).toEqual([[0, 4]]);
    expect(result.processes).toEqual([]);
    expect(result.xml?.driverVersion).toBe('535.54.03');
  });

  it('fails with NvidiaOutputError when nvidia-smi prints binary junk', async () => {
    fake.script(
      'case "$*" in "-L") cat "$FIXTURES/text/a100-sxm4-80gb-mig-list-gpu0-1.txt" ;; *) head -c 300 /dev/urandom ;; esac',
    );
    const error = await rejectionOf<NvidiaOutputError>(
      probeNvidiaSmi({ binary: fake.binary, timeoutMs: 10_000 }),
    );
    expect(error).toBeInstanceOf(NvidiaOutputError);
    expect(error.command).toBe('nvidia-smi -q -x');
  });

  it('fails with NvidiaOutputError when the XML is cut short', async () => {
    fake.script(`case "$*" in
  "-L") cat "$FIXTURES/text/a100-sxm4-80gb-mig-list-gpu0-1.txt" ;;
  *) head -c 5000 "$FIXTURES/xml/a100-sxm4-80gb-mig-q-x-1.xml" ;;
esac`);
    const error = await rejectionOf<NvidiaOutputError>(
      probeNvidiaSmi({ binary: fake.binary, timeoutMs: 10_000 }),
    );
    expect(error.message).toMatch(
      /^nvidia-smi -q -x: line 117: not well-formed XML on the last line \(output cut short\?\): Closing tag 'compute_inst'/,
    );
  });

  it('fails with NvidiaSmiFailedError when a call exits non-zero, and runs no further call', async () => {
    fake.script(
      'echo "$*" >> "$(dirname "$0")/calls"; echo "Unable to determine the device handle for GPU0000:01:00.0: Unknown Error"; exit 255',
    );
    const error = await rejectionOf<NvidiaSmiFailedError>(
      probeNvidiaSmi({ binary: fake.binary, timeoutMs: 10_000 }),
    );
    expect(error).toMatchObject({ kind: 'exit-code', exitCode: 255, command: 'nvidia-smi -L' });
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(`${fake.dir}/calls`, 'utf8')).toBe('-L\n');
  });

  it('fails with NvidiaInconsistentOutputError when MIG changed between the calls', async () => {
    fake.serves({ list: 'text/h100-80gb-hbm3-mig-list-1.txt', xml: 'xml/tesla-t4-q-x-processes-1.xml' });
    const error = await rejectionOf(probeNvidiaSmi({ binary: fake.binary, timeoutMs: 10_000 }));
    expect(error).toBeInstanceOf(NvidiaInconsistentOutputError);
  });

  it('refuses an XML that describes none of the GPUs -L lists', async () => {
    const empty = join(fake.dir, 'no-gpu.xml');
    writeFileSync(empty, fixture('xml/a100-sxm4-80gb-mig-q-x-1.xml').replace(/<gpu id=[\s\S]*<\/gpu>/, ''));
    fake.script(
      `case "$*" in "-L") cat "$FIXTURES/text/a100-sxm4-80gb-mig-list-gpu0-1.txt" ;; *) cat '${empty}' ;; esac`,
    );
    const error = await rejectionOf(probeNvidiaSmi({ binary: fake.binary, timeoutMs: 10_000 }));
    expect(error).toBeInstanceOf(NvidiaInconsistentOutputError);
    expect((error as Error).message).toMatch(/-L lists GPU 0 .*, which -q -x does not describe/);
  });
});
