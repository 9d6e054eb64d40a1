import { allocatableSlots } from '@ds01/domain';
import { describe, expect, it } from 'vitest';
import {
  buildInventory,
  NvidiaInconsistentOutputError,
  parseQueryGpuCsv,
  parseSmiList,
  parseSmiXml,
} from '../../src/nvidia/index.ts';
import { fixture, thrownBy } from './captures.ts';

const a100List = fixture('text/a100-sxm4-80gb-mig-list-1.txt');
/** -L cut to GPU 0, the one GPU the contributor left in the A100 XML: the pair that agrees. */
const a100Gpu0List = fixture('text/a100-sxm4-80gb-mig-list-gpu0-1.txt');
const a100Xml = fixture('xml/a100-sxm4-80gb-mig-q-x-1.xml');

describe('buildInventory', () => {
  it('joins -L (slots, profiles, MIG UUIDs) with -q -x (memory, instance ids) by UUID and device (A100)', () => {
    const inventory = buildInventory({ list: parseSmiList(a100Gpu0List), xml: parseSmiXml(a100Xml) });
    expect(inventory.source).toBe('nvidia-smi');
    const gpu0 = inventory.gpus[0]!;
    expect(gpu0).toMatchObject({ index: 0, memoryMiB: 81920, migEnabled: true });
    expect(gpu0.migSlots[1]).toEqual({
      slot: '0.1',
      gpuIndex: 0,
      migDevice: 1,
      profile: '1g.20gb',
      uuid: 'MIG-a45882f0-9215-5733-a0c1-49286ab31cb5',
      gpuInstanceId: 4,
      computeInstanceId: 0,
      memoryMiB: 19968,
    });
    expect(allocatableSlots(inventory).map((slot) => [slot.slot, slot.profile, slot.deviceId])).toEqual([
      ['0.0', '1g.20gb', 'MIG-ce861fb0-a248-58ce-a9a8-f9adbc22a66a'],
      ['0.1', '1g.20gb', 'MIG-a45882f0-9215-5733-a0c1-49286ab31cb5'],
      ['0.2', '1g.20gb', 'MIG-f00d722c-f4e1-52c9-aa31-750441ae1bfe'],
      ['0.3', '1g.20gb', 'MIG-930574a9-d43a-5d2b-95da-3e68384c8d6b'],
    ]);
  });

  it('takes memory and MIG mode from --query-gpu when there is no XML (H100)', () => {
    const inventory = buildInventory({
      list: parseSmiList(fixture('text/h100-80gb-hbm3-mig-list-1.txt')),
      queryGpu: parseQueryGpuCsv(fixture('csv/h100-80gb-hbm3-mig-query-gpu-1.csv')),
    });
    expect(inventory.gpus[0]).toMatchObject({ memoryMiB: 81559, migEnabled: true });
    expect(allocatableSlots(inventory).map((slot) => [slot.slot, slot.profile, slot.gpuEquivalents])).toEqual(
      [
        ['0.0', '3g.40gb', 3 / 7],
        ['0.1', '2g.20gb', 2 / 7],
        ['0.2', '1g.10gb', 1 / 7],
        ['0.3', '1g.10gb', 1 / 7],
      ],
    );
  });

  it('builds from -L alone, instance ids from legacy MIG UUIDs (driver 450)', () => {
    const inventory = buildInventory({
      list: parseSmiList(fixture('text/a100-sxm4-40gb-mig-list-legacy-uuid-1.txt')),
    });
    expect(
      inventory.gpus.map((gpu) => gpu.migSlots.map((mig) => [mig.slot, mig.gpuInstanceId, mig.memoryMiB])),
    ).toEqual([
      [
        ['0.0', 1, null],
        ['0.1', 2, null],
      ],
      [
        ['1.0', 1, null],
        ['1.1', 2, null],
      ],
      [
        ['2.0', 1, null],
        ['2.1', 2, null],
      ],
      [['3.0', 1, null]],
    ]);
  });

  it('orders GPUs by index whatever order -L wrote them in', () => {
    const lines = a100List.trim().split('\n');
    const reordered = [lines[6], lines[5], ...lines.slice(0, 5), lines[7]].join('\n');
    expect(buildInventory({ list: parseSmiList(reordered) }).gpus.map((gpu) => gpu.index)).toEqual([
      0, 1, 2, 3,
    ]);
  });

  describe('outputs that contradict each other (the GPUs changed between the calls)', () => {
    const cases: [string, string, string, RegExp][] = [
      [
        'a GPU in the XML that -L does not list',
        a100List.replace(/GPU 0: .*\n(\s+MIG.*\n)+/, ''),
        a100Xml,
        /-q -x describes GPU GPU-513536b6-7d19-9063-b049-1e69664bb298 \(NVIDIA A100-SXM4-80GB\), which -L does not list/,
      ],
      [
        'an XML that describes fewer of the GPUs -L lists (the real A100 -L, its XML cut to GPU 0)',
        a100List,
        a100Xml,
        /-L lists GPU 1 \(GPU-d8594bd4-0fc3-8595-e355-7c98138f3b95\), which -q -x does not describe \(it describes 1 of the 4 GPUs -L lists\)/,
      ],
      [
        'an XML that describes none of the GPUs -L lists',
        a100Gpu0List,
        a100Xml.replace(/<gpu id=[\s\S]*<\/gpu>/, ''),
        /-L lists GPU 0 \(GPU-513536b6-7d19-9063-b049-1e69664bb298\), which -q -x does not describe \(it describes 0 of the 1 GPUs -L lists\)/,
      ],
      [
        'an XML that describes another GPU in place of the one -L lists',
        a100Gpu0List,
        a100Xml.replace(
          '<uuid>GPU-513536b6-7d19-9063-b049-1e69664bb298</uuid>',
          '<uuid>GPU-00000000-7d19-9063-b049-1e69664bb298</uuid>',
        ),
        /-q -x describes GPU GPU-00000000-7d19-9063-b049-1e69664bb298 \(NVIDIA A100-SXM4-80GB\), which -L does not list/,
      ],
      [
        'MIG devices in -L on a GPU whose MIG mode is off',
        a100Gpu0List,
        a100Xml.replace('<current_mig>Enabled</current_mig>', '<current_mig>Disabled</current_mig>'),
        /-L lists MIG devices on GPU 0, but its MIG mode is reported as off/,
      ],
      [
        'fewer MIG devices in the XML',
        a100Gpu0List,
        a100Xml.replace(/<mig_device>\s*<index>3<\/index>[\s\S]*?<\/mig_device>/, ''),
        /GPU 0 has 4 MIG devices in -L but 3 in -q -x/,
      ],
      [
        'a MIG device number the XML does not have',
        a100Gpu0List,
        a100Xml.replace('<index>3</index>', '<index>7</index>'),
        /-L lists MIG device 3 on GPU 0, which -q -x does not describe/,
      ],
    ];
    it.each(cases)('%s', (_name, list, xml, message) => {
      const error = thrownBy<NvidiaInconsistentOutputError>(() =>
        buildInventory({ list: parseSmiList(list), xml: parseSmiXml(xml) }),
      );
      expect(error).toBeInstanceOf(NvidiaInconsistentOutputError);
      expect(error.message).toMatch(message);
      expect(error.message).toMatch(/the next probe retries/);
    });

    it('a legacy MIG UUID whose instance ids differ from the XML', () => {
      const list = `GPU 0: A100-SXM4-80GB (UUID: GPU-513536b6-7d19-9063-b049-1e69664bb298)\n${[3, 4, 9, 6]
        .map(
          (gi, d) =>
            `  MIG 1g.20gb Device ${d}: (UUID: MIG-GPU-513536b6-7d19-9063-b049-1e69664bb298/${gi}/0)`,
        )
        .join('\n')}`;
      const error = thrownBy(() => buildInventory({ list: parseSmiList(list), xml: parseSmiXml(a100Xml) }));
      expect(error.message).toMatch(
        /MIG device 0.2 is GPU instance 9\/compute instance 0 in -L but 5\/0 in -q -x/,
      );
    });
  });
});
