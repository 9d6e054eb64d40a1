import { describe, expect, it } from 'vitest';
import {
  buildInventory,
  gpuProcessesFromComputeApps,
  gpuProcessesFromXml,
  parseQueryComputeAppsCsv,
  parseQueryGpuCsv,
  parseSmiList,
  parseSmiXml,
} from '../../src/nvidia/index.ts';
import { fixture, listFor } from './captures.ts';

describe('GPU processes', () => {
  it('puts a process on a GPU without MIG on the whole-GPU slot (T4)', () => {
    const xmlText = fixture('xml/tesla-t4-q-x-processes-1.xml');
    const xml = parseSmiXml(xmlText);
    const inventory = buildInventory({ list: parseSmiList(listFor(xmlText)), xml });
    expect(gpuProcessesFromXml(inventory, xml)).toEqual([
      {
        pid: 675,
        gpuIndex: 0,
        gpuUuid: 'GPU-d37e67a5-91dd-3774-a5cb-99096249601a',
        slot: '0',
        migUuid: null,
        type: 'G',
        name: '/usr/lib/xorg/Xorg',
        usedMemoryMiB: 22,
      },
      {
        pid: 5762,
        gpuIndex: 0,
        gpuUuid: 'GPU-d37e67a5-91dd-3774-a5cb-99096249601a',
        slot: '0',
        migUuid: null,
        type: 'C',
        name: 'python',
        usedMemoryMiB: 1005,
      },
    ]);
  });

  it('puts each process on the GPU it runs on, by UUID (4× K80 out of minor-number order)', () => {
    const xmlText = fixture('xml/tesla-k80-x4-q-x-processes-1.xml');
    const xml = parseSmiXml(xmlText);
    const inventory = buildInventory({ list: parseSmiList(listFor(xmlText)), xml });
    expect(gpuProcessesFromXml(inventory, xml).map((p) => [p.pid, p.slot])).toEqual([
      [58813, '0'],
      [58642, '1'],
    ]);
  });

  it('puts a process on a MIG GPU on its MIG slot by GPU and compute instance id (A100)', () => {
    // The A100 capture has no processes: add one on GPU instance 5 as nvidia-smi writes it (DTD v12).
    const xmlText = fixture('xml/a100-sxm4-80gb-mig-q-x-1.xml').replace(
      '<processes />',
      `<processes>
            <process_info>
                <gpu_instance_id>5</gpu_instance_id>
                <compute_instance_id>0</compute_instance_id>
                <pid>4242</pid>
                <type>C</type>
                <process_name>python</process_name>
                <used_memory>1200 MiB</used_memory>
            </process_info>
        </processes>`,
    );
    const xml = parseSmiXml(xmlText);
    const inventory = buildInventory({
      list: parseSmiList(fixture('text/a100-sxm4-80gb-mig-list-gpu0-1.txt')),
      xml,
    });
    expect(gpuProcessesFromXml(inventory, xml)).toEqual([
      {
        pid: 4242,
        gpuIndex: 0,
        gpuUuid: 'GPU-513536b6-7d19-9063-b049-1e69664bb298',
        slot: '0.2',
        migUuid: 'MIG-f00d722c-f4e1-52c9-aa31-750441ae1bfe',
        type: 'C',
        name: 'python',
        usedMemoryMiB: 1200,
      },
    ]);
  });

  it('gives no slot to a process on a MIG GPU when only --query-compute-apps is there (H100)', () => {
    const inventory = buildInventory({
      list: parseSmiList(fixture('text/h100-80gb-hbm3-mig-list-1.txt')),
      queryGpu: parseQueryGpuCsv(fixture('csv/h100-80gb-hbm3-mig-query-gpu-1.csv')),
    });
    const apps = parseQueryComputeAppsCsv(fixture('csv/h100-80gb-hbm3-mig-query-compute-apps-1.csv'));
    expect(
      gpuProcessesFromComputeApps(inventory, apps).map((p) => [p.pid, p.gpuIndex, p.slot, p.name]),
    ).toEqual([
      [21180, 0, null, '/root/tools/memhog'],
      [21181, 0, null, '/root/tools/memhog'],
      [21198, 0, null, './gpu_burn'],
    ]);
  });

  it('leaves out processes of a GPU the inventory does not hold', () => {
    const xml = parseSmiXml(fixture('xml/tesla-t4-q-x-processes-1.xml'));
    const inventory = buildInventory({ list: parseSmiList(fixture('text/h100-80gb-hbm3-mig-list-1.txt')) });
    expect(gpuProcessesFromXml(inventory, xml)).toEqual([]);
    const apps = parseQueryComputeAppsCsv(fixture('csv/rtx-4080-super-query-compute-apps-1.csv'));
    expect(gpuProcessesFromComputeApps({ source: 'nvidia-smi', gpus: [] }, apps)).toEqual([]);
  });
});
