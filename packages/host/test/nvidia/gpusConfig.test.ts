import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ConfigError,
  DEFAULT_GPUS_CONFIG,
  GpusConfig,
  gpusSection,
  parseYaml,
  simulatedInventory,
} from '@ds01/config';
import { allocatableSlots, GpuInventorySchema } from '@ds01/domain';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { findExecutable, selectGpuSource } from '../../src/nvidia/index.ts';
import { thrownBy } from './captures.ts';
import { FakeNvidiaSmi } from './fakeNvidiaSmi.ts';

const EXAMPLE = join(import.meta.dirname, '..', '..', '..', '..', 'config', 'gpus.simulated.example.yaml');
/** ds01.yaml as far as this concept goes: the `gpus:` section, composed as packages/config composes it. */
const Ds01Yaml = z.strictObject(gpusSection);

function readSection(text: string, file = 'ds01.yaml'): GpusConfig {
  return parseYaml(text, file, Ds01Yaml).gpus ?? DEFAULT_GPUS_CONFIG;
}

describe('the gpus: section of ds01.yaml', () => {
  it('the shipped example gives 4× A100 80 GB, two of them MIG-partitioned', () => {
    const config = readSection(readFileSync(EXAMPLE, 'utf8'), EXAMPLE);
    expect(config).toMatchObject({ mode: 'auto', probe_interval_seconds: 15, probe_timeout_seconds: 20 });
    const inventory = GpuInventorySchema.parse(simulatedInventory(config.simulated));
    expect(inventory.source).toBe('simulated');
    expect(inventory.gpus.map((gpu) => [gpu.index, gpu.name, gpu.memoryMiB, gpu.migEnabled])).toEqual([
      [0, 'NVIDIA A100-SXM4-80GB', 81920, false],
      [1, 'NVIDIA A100-SXM4-80GB', 81920, false],
      [2, 'NVIDIA A100-SXM4-80GB', 81920, true],
      [3, 'NVIDIA A100-SXM4-80GB', 81920, true],
    ]);
    const slots = allocatableSlots(inventory);
    expect(slots.slice(0, 6).map((slot) => [slot.slot, slot.profile, slot.deviceId])).toEqual([
      ['0', 'full', 'GPU-simulated-0'],
      ['1', 'full', 'GPU-simulated-1'],
      ['2.0', '3g.40gb', 'MIG-simulated-2-0'],
      ['2.1', '2g.20gb', 'MIG-simulated-2-1'],
      ['2.2', '1g.10gb', 'MIG-simulated-2-2'],
      ['2.3', '1g.10gb', 'MIG-simulated-2-3'],
    ]);
    expect(slots).toHaveLength(2 + 4 + 7);
    expect(slots.reduce((sum, slot) => sum + slot.gpuEquivalents, 0)).toBeCloseTo(2 + 7 / 7 + 7 / 7);
    expect(inventory.gpus[2]!.migSlots[0]).toMatchObject({
      memoryMiB: 40 * 1024,
      uuid: 'MIG-simulated-2-0',
      gpuInstanceId: null,
    });
  });

  it('has defaults for everything: auto mode, no simulated GPUs', () => {
    expect(readSection('')).toEqual({
      mode: 'auto',
      nvidia_smi: 'nvidia-smi',
      probe_interval_seconds: 15,
      probe_timeout_seconds: 20,
      simulated: [],
    });
    expect(
      readSection('gpus:\n  simulated:\n    - name: X\n      memory_mib: 1024\n').simulated[0]!.mig,
    ).toBeNull();
  });

  describe('a wrong section is a ConfigError naming file:line and the key', () => {
    const cases: [string, string, RegExp][] = [
      [
        'more than 7 compute slices',
        'gpus:\n  simulated:\n    - name: A100\n      memory_mib: 81920\n      mig: [4g.40gb, 4g.40gb]\n',
        /ds01\.yaml:5:\d+: gpus\.simulated\.0\.mig: uses 8 compute slices \(4g\.40gb \+ 4g\.40gb\), but a GPU has 7: remove or shrink a profile/,
      ],
      [
        'a profile that is not one',
        'gpus:\n  simulated:\n    - name: A100\n      memory_mib: 81920\n      mig: [3g40gb]\n',
        /ds01\.yaml:5:\d+: gpus\.simulated\.0\.mig\.0: must be a MIG GPU-instance profile like "3g\.40gb"/,
      ],
      [
        'a profile larger than the GPU',
        'gpus:\n  simulated:\n    - name: A100 40GB\n      memory_mib: 40960\n      mig: [7g.80gb]\n',
        /gpus\.simulated\.0\.mig: profile 7g\.80gb has more memory than the GPU's 40960 MiB/,
      ],
      ['an unknown mode', 'gpus:\n  mode: gpu\n', /ds01\.yaml:2:\d+: gpus\.mode: /],
      ['a misspelt key', 'gpus:\n  probe_intervall_seconds: 5\n', /did you mean 'probe_interval_seconds'/],
      [
        'memory as text',
        'gpus:\n  simulated:\n    - name: A100\n      memory_mib: 80GB\n',
        /ds01\.yaml:4:\d+: gpus\.simulated\.0\.memory_mib/,
      ],
    ];
    it.each(cases)('%s', (_name, text, message) => {
      const error = thrownBy<ConfigError>(() => readSection(text));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toMatch(message);
    });
  });
});

describe('selectGpuSource', () => {
  let fake: FakeNvidiaSmi;
  beforeEach(() => {
    fake = new FakeNvidiaSmi().serves({
      list: 'text/a100-sxm4-80gb-mig-list-gpu0-1.txt',
      xml: 'xml/a100-sxm4-80gb-mig-q-x-1.xml',
    });
  });
  afterEach(() => fake.remove());
  const simulated = [{ name: 'NVIDIA A100-SXM4-80GB', memory_mib: 81920, mig: null }];

  it('auto: uses nvidia-smi when it is on PATH', async () => {
    const source = await selectGpuSource(GpusConfig.parse({ simulated }), {
      PATH: `/nonexistent:${fake.dir}`,
    });
    expect(source.kind).toBe('nvidia-smi');
    expect(source.description).toBe(`nvidia-smi (${fake.binary})`);
    expect((await source.probe()).inventory.gpus).toHaveLength(1);
  });

  it('auto: falls back to the simulated GPUs when nvidia-smi is nowhere', async () => {
    const source = await selectGpuSource(GpusConfig.parse({ simulated }), { PATH: '/nonexistent' });
    expect(source.kind).toBe('simulated');
    expect(source.description).toBe('simulated (1 GPU from ds01.yaml gpus.simulated)');
    expect(await source.probe()).toEqual({
      inventory: simulatedInventory(simulated),
      processes: [],
      xml: null,
    });
  });

  it('nvidia-smi: uses the configured binary even when it is missing (the probe then fails)', async () => {
    const config = GpusConfig.parse({ mode: 'nvidia-smi', nvidia_smi: '/nonexistent/nvidia-smi' });
    const source = await selectGpuSource(config, { PATH: fake.dir });
    expect(source.kind).toBe('nvidia-smi');
    await expect(source.probe()).rejects.toMatchObject({ kind: 'not-found' });
  });

  it('simulated: never runs nvidia-smi', async () => {
    const source = await selectGpuSource(GpusConfig.parse({ mode: 'simulated', simulated }), {
      PATH: fake.dir,
    });
    expect(source.kind).toBe('simulated');
  });

  it('findExecutable skips directories and files that are not executable', async () => {
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(join(fake.dir, 'a', 'nvidia-smi'), { recursive: true });
    mkdirSync(join(fake.dir, 'b'));
    writeFileSync(join(fake.dir, 'b', 'nvidia-smi'), 'not a program', { mode: 0o644 });
    const decoys = [join(fake.dir, 'a'), join(fake.dir, 'b'), 'relative'];
    expect(await findExecutable('nvidia-smi', [...decoys, fake.dir].join(':'))).toBe(fake.binary);
    expect(await findExecutable('nvidia-smi', decoys.join(':'))).toBeNull();
    expect(await findExecutable(fake.binary, '')).toBe(fake.binary);
  });
});
