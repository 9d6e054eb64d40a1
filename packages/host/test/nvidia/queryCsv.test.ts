import { describe, expect, it } from 'vitest';
import {
  NvidiaOutputError,
  parseQueryComputeAppsCsv,
  parseQueryCsv,
  parseQueryGpuCsv,
} from '../../src/nvidia/index.ts';
import { fixture, thrownBy } from './captures.ts';

describe('parseQueryGpuCsv (nvidia-smi --query-gpu … --format=csv)', () => {
  const h100 = fixture('csv/h100-80gb-hbm3-mig-query-gpu-1.csv');

  it('types the fields DS01 reads; placeholders are null, not zero (H100 in MIG mode)', () => {
    const [row, ...more] = parseQueryGpuCsv(h100);
    expect(more).toEqual([]);
    expect(row).toMatchObject({
      index: 0,
      uuid: 'GPU-00000000-0000-0000-0000-000000000000',
      name: 'NVIDIA H100 80GB HBM3',
      pciBusId: '00000000:00:09.0',
      memoryTotalMiB: 81559,
      memoryUsedMiB: 11125,
      utilizationPercent: null, // "[N/A]": a MIG GPU has no whole-GPU utilisation
      powerDrawW: 433.78,
      temperatureC: 53,
      migEnabled: true,
    });
  });

  it('keeps every other field as text, with every placeholder null', () => {
    const { fields } = parseQueryGpuCsv(h100)[0]!;
    expect(Object.keys(fields)).toHaveLength(212);
    expect(fields['driver_version']).toBe('590.48.01');
    expect(fields['clocks.max.sm']).toBe('1980 MHz');
    expect(fields['fan.speed']).toBeNull(); // [N/A]
    expect(fields['display_mode']).toBeNull(); // [Requested functionality has been deprecated]
    expect(fields['fabric.health.summary']).toBeNull(); // N/A without brackets
    expect(fields['platform.chassis_serial_number']).toBeNull(); // empty
  });

  it('gives null for the fields a query did not ask for', () => {
    const rows = parseQueryGpuCsv('index, uuid\n0, GPU-1\n1, GPU-2\n');
    expect(rows.map((row) => [row.index, row.uuid, row.memoryTotalMiB, row.migEnabled])).toEqual([
      [0, 'GPU-1', null, null],
      [1, 'GPU-2', null, null],
    ]);
  });

  it('reads values written without units (--format=csv,nounits)', () => {
    const [row] = parseQueryGpuCsv('index, memory.total [MiB], power.draw [W]\n0, 81920, 67.03');
    expect(row).toMatchObject({ memoryTotalMiB: 81920, powerDrawW: 67.03 });
  });

  describe('garbled output is an NvidiaOutputError naming line and column', () => {
    const header = h100.split('\n')[0]!;
    const values = h100.split('\n')[1]!;
    const cases: [string, string, RegExp][] = [
      ['empty output', '', /line 1: expected a CSV header, found nothing/],
      ['no header (--format=csv,noheader)', `${values}\n`, /line 1: expected a CSV header of field names/],
      ['binary junk', '\u0000\u0001\u00ff\n\u0002', /line 1: expected a CSV header of field names/],
      [
        'a row cut short',
        `${header}\n${values.slice(0, 300)}`,
        /line 2: expected 212 values as in the header, found \d+/,
      ],
      [
        'a row with an extra value',
        `${header}\n${values}, 1\n`,
        /line 2: expected 212 values as in the header, found 213/,
      ],
      [
        'a unit other than the header says',
        `${header}\n${values.replace('81559 MiB', '81559 GiB')}`,
        /line 2, column 'memory.total': expected a number in MiB \(found: "81559 GiB"\)/,
      ],
      [
        'text where a number belongs',
        `${header}\n${values.replace('433.78 W', 'lots W')}`,
        /line 2, column 'power.draw': expected a number in W/,
      ],
      [
        'a MIG mode that is neither',
        `${header}\n${values.replace('Enabled, Enabled, Enabled, Enabled, Disabled', 'Sometimes, Enabled, Enabled, Enabled, Disabled')}`,
        /line 2, column 'mig.mode.current': expected Enabled or Disabled/,
      ],
    ];
    it.each(cases)('%s', (_name, text, message) => {
      const error = thrownBy<NvidiaOutputError>(() => parseQueryGpuCsv(text));
      expect(error).toBeInstanceOf(NvidiaOutputError);
      expect(error.command).toBe('nvidia-smi --query-gpu');
      expect(error.message).toMatch(message);
    });
  });
});

describe('parseQueryComputeAppsCsv (nvidia-smi --query-compute-apps … --format=csv)', () => {
  it('reads each process with its parent GPU UUID (H100 in MIG mode: no MIG column)', () => {
    expect(parseQueryComputeAppsCsv(fixture('csv/h100-80gb-hbm3-mig-query-compute-apps-1.csv'))).toEqual([
      {
        pid: 21180,
        gpuUuid: 'GPU-00000000-0000-0000-0000-000000000000',
        processName: '/root/tools/memhog',
        usedMemoryMiB: 2296,
      },
      {
        pid: 21181,
        gpuUuid: 'GPU-00000000-0000-0000-0000-000000000000',
        processName: '/root/tools/memhog',
        usedMemoryMiB: 1272,
      },
      {
        pid: 21198,
        gpuUuid: 'GPU-00000000-0000-0000-0000-000000000000',
        processName: './gpu_burn',
        usedMemoryMiB: 7484,
      },
    ]);
  });

  it('reads a consumer card with [N/A] serial (RTX 4080 SUPER)', () => {
    const apps = parseQueryComputeAppsCsv(fixture('csv/rtx-4080-super-query-compute-apps-1.csv'));
    expect(apps.map((app) => [app.pid, app.processName, app.usedMemoryMiB])).toEqual([
      [2165, '/usr/bin/kwin_wayland', 25],
      [5022, 'ffmpeg', 503],
      [5021, 'ffmpeg', 360],
    ]);
  });

  it('reads a header alone as no processes', () => {
    const header = fixture('csv/rtx-4080-super-query-compute-apps-1.csv').split('\n')[0]!;
    expect(parseQueryComputeAppsCsv(`${header}\n`)).toEqual([]);
  });

  it('keeps a comma inside a process name (nvidia-smi does not quote)', () => {
    const text = fixture('csv/rtx-4080-super-query-compute-apps-1.csv').replace(
      ', ffmpeg, 503',
      ', ffmpeg -i a,b.mp4, 503',
    );
    expect(parseQueryComputeAppsCsv(text)[1]!.processName).toBe('ffmpeg -i a,b.mp4');
  });

  it('reads [N/A] used memory as null', () => {
    const text = fixture('csv/rtx-4080-super-query-compute-apps-1.csv').replace('25 MiB', '[N/A]');
    expect(parseQueryComputeAppsCsv(text)[0]!.usedMemoryMiB).toBeNull();
  });

  describe('garbled output', () => {
    const text = fixture('csv/rtx-4080-super-query-compute-apps-1.csv');
    const cases: [string, string, RegExp][] = [
      ['empty output', '', /line 1: expected a CSV header/],
      [
        'a query without pid',
        'gpu_uuid, process_name\nGPU-1, python\n',
        /line 2, column 'pid': is missing from the query/,
      ],
      [
        'a pid that is a placeholder',
        text.replace(', 5022,', ', [N/A],'),
        /line 3, column 'pid': has no value/,
      ],
      ['a pid of 0', text.replace(', 5022,', ', 0,'), /line 3, column 'pid': expected a process id/],
      [
        'a row cut short',
        text.slice(0, text.indexOf('ffmpeg')),
        /line 3: expected 8 values as in the header, found 7/,
      ],
    ];
    it.each(cases)('%s', (_name, output, message) => {
      const error = thrownBy<NvidiaOutputError>(() => parseQueryComputeAppsCsv(output));
      expect(error).toBeInstanceOf(NvidiaOutputError);
      expect(error.message).toMatch(message);
    });
  });
});

describe('parseQueryCsv', () => {
  it('splits header cells into field and unit', () => {
    const csv = parseQueryCsv(
      'nvidia-smi --query-gpu',
      'index, memory.used [MiB], utilization.gpu [%]\n0, 12 MiB, [N/A]',
    );
    expect(csv.columns).toEqual([
      { field: 'index', unit: null },
      { field: 'memory.used', unit: 'MiB' },
      { field: 'utilization.gpu', unit: '%' },
    ]);
    expect(csv.rows).toEqual([
      { line: 2, raw: { index: '0', 'memory.used': '12 MiB', 'utilization.gpu': '[N/A]' } },
    ]);
  });
});
