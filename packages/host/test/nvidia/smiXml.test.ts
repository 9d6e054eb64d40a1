import { describe, expect, it } from 'vitest';
import { NvidiaOutputError, parseSmiXml } from '../../src/nvidia/index.ts';
import { fixture, thrownBy } from './captures.ts';

describe('parseSmiXml (nvidia-smi -q -x)', () => {
  it('reads MIG devices with their instance ids and memory, and no utilisation (A100, DTD v12)', () => {
    const log = parseSmiXml(fixture('xml/a100-sxm4-80gb-mig-q-x-1.xml'));
    expect(log).toMatchObject({ driverVersion: '535.54.03', cudaVersion: '12.2', attachedGpus: 4 });
    // A trimmed capture: attached_gpus says 4, one <gpu> is left.
    expect(log.gpus).toHaveLength(1);
    const gpu = log.gpus[0]!;
    expect(gpu).toMatchObject({
      position: 0,
      pciBusId: '00000000:01:00.0',
      uuid: 'GPU-513536b6-7d19-9063-b049-1e69664bb298',
      name: 'NVIDIA A100-SXM4-80GB',
      minorNumber: 1,
      memoryTotalMiB: 81920,
      memoryUsedMiB: 50,
      migEnabled: true,
      migPending: true,
      utilizationPercent: null,
      powerDrawW: 67.03,
      temperatureC: 27,
      processes: [],
    });
    expect(gpu.migDevices).toEqual(
      [3, 4, 5, 6].map((gi, index) => ({
        index,
        gpuInstanceId: gi,
        computeInstanceId: 0,
        memoryTotalMiB: 19968,
        memoryUsedMiB: 12,
        multiprocessorCount: 14,
      })),
    );
  });

  it('keeps the <gpu> order as the index, whatever the minor numbers (4× K80, DTD v10, no MIG elements)', () => {
    const log = parseSmiXml(fixture('xml/tesla-k80-x4-q-x-processes-1.xml'));
    expect(log.cudaVersion).toBeNull(); // "Not Found"
    expect(log.gpus.map((gpu) => [gpu.position, gpu.minorNumber, gpu.pciBusId])).toEqual([
      [0, 1, '00001580:00:00.0'],
      [1, 2, '00002DF7:00:00.0'],
      [2, 3, '00004968:00:00.0'],
      [3, 0, '0000F8D6:00:00.0'],
    ]);
    for (const gpu of log.gpus) {
      expect(gpu.migEnabled).toBeNull();
      expect(gpu.migDevices).toBeNull();
    }
    expect(log.gpus[0]!.processes).toEqual([
      {
        pid: 58813,
        type: 'C',
        name: 'python',
        usedMemoryMiB: 576,
        gpuInstanceId: null,
        computeInstanceId: null,
      },
    ]);
  });

  it('reads processes with N/A instance ids as null, not 0 (T4, DTD v11)', () => {
    const gpu = parseSmiXml(fixture('xml/tesla-t4-q-x-processes-1.xml')).gpus[0]!;
    expect(gpu.migDevices).toBeNull(); // <mig_devices>None</mig_devices>
    expect(gpu.processes).toEqual([
      {
        pid: 675,
        type: 'G',
        name: '/usr/lib/xorg/Xorg',
        usedMemoryMiB: 22,
        gpuInstanceId: null,
        computeInstanceId: null,
      },
      {
        pid: 5762,
        type: 'C',
        name: 'python',
        usedMemoryMiB: 1005,
        gpuInstanceId: null,
        computeInstanceId: null,
      },
    ]);
  });

  it('reads the v13 power readings (average_power_draw) and two GPUs sharing one process (2× RTX A5000)', () => {
    const log = parseSmiXml(fixture('xml/rtx-a5000-x2-q-x-processes-1.xml'));
    expect(log.gpus.map((gpu) => [gpu.powerDrawW, gpu.minorNumber, gpu.processes[0]?.usedMemoryMiB])).toEqual(
      [
        [6.41, 1, 22430],
        [13.6, 0, 17246],
      ],
    );
  });

  it('reads a Windows capture with N/A minor number (RTX 3080)', () => {
    const gpu = parseSmiXml(fixture('xml/rtx-3080-windows-q-x-1.xml')).gpus[0]!;
    expect(gpu).toMatchObject({
      minorNumber: null,
      memoryTotalMiB: 10240,
      utilizationPercent: 0,
      processes: [],
    });
  });

  it('reads an empty <mig_devices> of a MIG GPU without instances as no devices, not "MIG off"', () => {
    const text = fixture('xml/a100-sxm4-80gb-mig-q-x-1.xml').replace(
      /<mig_devices>[\s\S]*<\/mig_devices>/,
      '<mig_devices>\n        </mig_devices>',
    );
    expect(parseSmiXml(text).gpus[0]!.migDevices).toEqual([]);
  });

  it('reads N/A used memory of a process (Windows) as null', () => {
    const text = fixture('xml/tesla-t4-q-x-processes-1.xml').replace(
      '<used_memory>1005 MiB</used_memory>',
      '<used_memory>N/A</used_memory>',
    );
    expect(parseSmiXml(text).gpus[0]!.processes[1]!.usedMemoryMiB).toBeNull();
  });

  describe('garbled output is an NvidiaOutputError naming where', () => {
    const a100 = fixture('xml/a100-sxm4-80gb-mig-q-x-1.xml');
    const t4 = fixture('xml/tesla-t4-q-x-processes-1.xml');
    const cases: [string, string, RegExp][] = [
      ['empty output', '', /whole output: is empty/],
      [
        'XML cut short',
        a100.slice(0, a100.indexOf('<processes')),
        /end of output \(line 449\): the XML ends inside <nvidia_smi_log > gpu> \(output cut short\?\)/,
      ],
      ['binary junk', '\u0000\u0001\u0002garbage\u00ff', /line 1: not well-formed XML/],
      [
        'mismatched tags',
        a100.replace('</uuid>', '</uuidx>'),
        /line 153: not well-formed XML: Expected closing tag 'uuid'/,
      ],
      [
        'another document',
        '<?xml version="1.0" ?>\n<html><body/></html>\n',
        /whole output: expected a <nvidia_smi_log> document/,
      ],
      [
        'a GPU without UUID',
        a100.replace(/<uuid>.*<\/uuid>/, ''),
        /<nvidia_smi_log> > <gpu> #1 > <uuid>: is missing/,
      ],
      [
        'memory in an unexpected unit',
        a100.replace('<total>81920 MiB</total>', '<total>80 GiB</total>'),
        /<gpu> #1 > <fb_memory_usage> > <total>: expected a number in MiB \(found: "80 GiB"\)/,
      ],
      [
        'a MIG device without index',
        a100.replace('<index>2</index>', '<index>N/A</index>'),
        /<gpu> #1 > <mig_devices> > <mig_device> #3 > <index>: is missing or has no value/,
      ],
      [
        'text where MIG devices belong',
        a100.replace(/<mig_devices>[\s\S]*<\/mig_devices>/, '<mig_devices>Whatever</mig_devices>'),
        /<gpu> #1 > <mig_devices>: expected <mig_device> elements or "None"/,
      ],
      [
        'a process id that is not a number',
        t4.replace('<pid>5762</pid>', '<pid>57x62</pid>'),
        /<process_info> #2 > <pid>: expected a number/,
      ],
      [
        'a process id of 0',
        t4.replace('<pid>5762</pid>', '<pid>0</pid>'),
        /<process_info> #2 > <pid>: expected a process id/,
      ],
      [
        'a negative instance id',
        t4.replace('<gpu_instance_id>N/A', '<gpu_instance_id>-1'),
        /<gpu_instance_id>: expected a whole number/,
      ],
      [
        'a MIG mode that is neither on nor off',
        a100.replace('<current_mig>Enabled</current_mig>', '<current_mig>Maybe</current_mig>'),
        /<mig_mode> > <current_mig>: expected Enabled or Disabled/,
      ],
    ];
    it.each(cases)('%s', (_name, text, message) => {
      const error = thrownBy<NvidiaOutputError>(() => parseSmiXml(text));
      expect(error).toBeInstanceOf(NvidiaOutputError);
      expect(error.command).toBe('nvidia-smi -q -x');
      expect(error.message).toMatch(message);
    });
  });

  describe('health readings', () => {
    it('reads ECC counts, retired pages and throttle reasons of the pre-450 layout (4× K80, DTD v10)', () => {
      const [first, second, third] = parseSmiXml(fixture('xml/tesla-k80-x4-q-x-processes-1.xml')).gpus;
      expect(first!.health).toEqual({
        eccVolatile: { correctable: 0, uncorrectable: 0 },
        eccAggregate: { correctable: 7, uncorrectable: 7 },
        retiredPages: { singleBit: 1, doubleBit: 1, pending: null },
        throttleReasons: ['applications_clocks_setting'],
      });
      expect(second!.health.eccAggregate).toEqual({ correctable: 34, uncorrectable: 4 });
      expect(third!.health.throttleReasons).toEqual(['gpu_idle']);
    });

    it('sums the per-memory ECC counts of later drivers, and reads "No" as not pending (T4, DTD v11)', () => {
      const [gpu] = parseSmiXml(fixture('xml/tesla-t4-q-x-processes-1.xml')).gpus;
      expect(gpu!.health).toEqual({
        eccVolatile: { correctable: 0, uncorrectable: 0 },
        eccAggregate: { correctable: 0, uncorrectable: 0 },
        retiredPages: { singleBit: 0, doubleBit: 0, pending: false },
        throttleReasons: [],
      });
    });

    it('reads ECC that is off (every count N/A) as unknown, not as zero errors (RTX A5000, DTD v13)', () => {
      const [gpu] = parseSmiXml(fixture('xml/rtx-a5000-x2-q-x-processes-1.xml')).gpus;
      expect(gpu!.health).toEqual({
        eccVolatile: null,
        eccAggregate: null,
        retiredPages: { singleBit: null, doubleBit: null, pending: null },
        throttleReasons: ['gpu_idle'],
      });
    });
  });
});
