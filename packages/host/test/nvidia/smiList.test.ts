import { describe, expect, it } from 'vitest';
import { NvidiaOutputError, parseSmiList } from '../../src/nvidia/index.ts';
import { fixture, thrownBy } from './captures.ts';

describe('parseSmiList (nvidia-smi -L)', () => {
  it('reads GPUs and their MIG devices with profile, device number and UUID (A100 80GB, driver 535)', () => {
    const list = parseSmiList(fixture('text/a100-sxm4-80gb-mig-list-1.txt'));
    expect(list.gpus.map((gpu) => [gpu.index, gpu.name, gpu.uuid, gpu.migDevices.length])).toEqual([
      [0, 'NVIDIA A100-SXM4-80GB', 'GPU-513536b6-7d19-9063-b049-1e69664bb298', 4],
      [1, 'NVIDIA A100-SXM4-80GB', 'GPU-d8594bd4-0fc3-8595-e355-7c98138f3b95', 0],
      [2, 'NVIDIA A100-SXM4-80GB', 'GPU-5e375e7e-b41f-155b-dcdc-534524c356fc', 0],
      [3, 'NVIDIA A100-SXM4-80GB', 'GPU-69ec2344-ebac-b028-f88f-452abb3d7f11', 0],
    ]);
    expect(list.gpus[0]!.migDevices[2]).toEqual({
      device: 2,
      profile: '1g.20gb',
      uuid: 'MIG-f00d722c-f4e1-52c9-aa31-750441ae1bfe',
      gpuInstanceId: null,
      computeInstanceId: null,
    });
  });

  it('reads a mixed MIG layout in device order (H100, driver 590)', () => {
    const list = parseSmiList(fixture('text/h100-80gb-hbm3-mig-list-1.txt'));
    expect(list.gpus[0]!.migDevices.map((mig) => [mig.device, mig.profile])).toEqual([
      [0, '3g.40gb'],
      [1, '2g.20gb'],
      [2, '1g.10gb'],
      [3, '1g.10gb'],
    ]);
  });

  it('takes GPU and compute instance ids from legacy MIG UUIDs (driver 450, no "NVIDIA " prefix)', () => {
    const list = parseSmiList(fixture('text/a100-sxm4-40gb-mig-list-legacy-uuid-1.txt'));
    expect(list.gpus[0]!.name).toBe('A100-SXM4-40GB');
    expect(list.gpus[1]!.migDevices[1]).toEqual({
      device: 1,
      profile: '3g.20gb',
      uuid: 'MIG-GPU-604c7a18-e7d0-02e0-723a-7578be840651/2/0',
      gpuInstanceId: 2,
      computeInstanceId: 0,
    });
    // The capture is cut after GPU 3's first device: what is there is read, nothing invented.
    expect(list.gpus[3]!.migDevices).toHaveLength(1);
  });

  it('reads compute-instance profiles of a shared GPU instance ("1c.3g.71gb")', () => {
    // FORMATS.md: several compute instances in one GPU instance show as 1c.3g.71gb, 2c.3g.71gb.
    const text = fixture('text/h100-80gb-hbm3-mig-list-1.txt')
      .replace('MIG 3g.40gb  ', 'MIG 1c.3g.71gb')
      .replace('MIG 2g.20gb  ', 'MIG 2c.3g.71gb');
    const list = parseSmiList(text);
    expect(list.gpus[0]!.migDevices.map((mig) => mig.profile)).toEqual([
      '1c.3g.71gb',
      '2c.3g.71gb',
      '1g.10gb',
      '1g.10gb',
    ]);
  });

  it('accepts CRLF line ends and a missing final newline', () => {
    const text = fixture('text/a100-sxm4-80gb-mig-list-1.txt').trimEnd().replaceAll('\n', '\r\n');
    expect(parseSmiList(text).gpus).toHaveLength(4);
  });

  describe('garbled output is an NvidiaOutputError naming the line', () => {
    const a100 = fixture('text/a100-sxm4-80gb-mig-list-1.txt');
    const cases: [string, string, RegExp][] = [
      ['empty output', '', /whole output: lists no GPU/],
      ['only blank lines', '\n\n  \n', /whole output: lists no GPU/],
      [
        'binary junk',
        '\u0000\u0001\u00ff\ufffdGPU\u0007',
        /line 1: expected "GPU <n>: <name> \(UUID: GPU-…\)"/,
      ],
      ['an error message instead of a list', 'No devices were found\n', /line 1: expected/],
      ['a line cut in half', a100.slice(0, a100.indexOf('Device  2') + 12), /line 4: expected/],
      [
        'a MIG device before any GPU',
        a100.split('\n').slice(1).join('\n'),
        /line 1: a MIG device comes before any GPU/,
      ],
      ['a GPU listed twice', `${a100}${a100}`, /line 9: GPU 0 is listed twice/],
      [
        'a MIG device listed twice',
        a100.replace('Device  1', 'Device  0'),
        /line 3: GPU 0 lists MIG device 0 twice/,
      ],
      [
        'a profile that is not one',
        a100.replace('MIG 1g.20gb', 'MIG banana '),
        /line 2: 'banana' is not a MIG profile/,
      ],
    ];
    it.each(cases)('%s', (_name, text, message) => {
      const error = thrownBy<NvidiaOutputError>(() => parseSmiList(text));
      expect(error).toBeInstanceOf(NvidiaOutputError);
      expect(error.command).toBe('nvidia-smi -L');
      expect(error.message).toMatch(message);
    });

    it('shows junk as printable text, cut short', () => {
      const error = thrownBy<NvidiaOutputError>(() => parseSmiList(`\u0000\u0001${'x'.repeat(500)}`));
      expect(error.found).toMatch(/^\?\?x+…$/);
      expect(error.found.length).toBeLessThan(130);
    });
  });
});
