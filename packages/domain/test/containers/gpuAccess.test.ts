import { gpuAccessOf } from '@ds01/domain';
import { describe, expect, it } from 'vitest';
import { type InspectChanges, inspectWith } from './inspectFixture.ts';

const gpus = (changes: InspectChanges, defaultRuntime?: string) =>
  gpuAccessOf(inspectWith(changes), defaultRuntime);
const request = (r: Record<string, unknown>) => ({
  hostConfig: {
    DeviceRequests: [{ Driver: '', Count: 0, DeviceIDs: null, Capabilities: [['gpu']], Options: {}, ...r }],
  },
});

describe('GPU access of a container', () => {
  it.each<[string, InspectChanges, unknown]>([
    ['no GPU', {}, { access: 'none' }],
    ['--gpus all', request({ Count: -1 }), { access: 'all', via: 'device_request' }],
    ['--gpus 2', request({ Count: 2 }), { access: 'count', count: 2, via: 'device_request' }],
    [
      '--gpus device=GPU-abc,MIG-def',
      request({ DeviceIDs: ['GPU-abc', 'MIG-def'] }),
      { access: 'specific', devices: ['GPU-abc', 'MIG-def'], via: 'device_request' },
    ],
    [
      'driver nvidia without gpu capability',
      request({ Driver: 'nvidia', Capabilities: null, Count: 1 }),
      { access: 'count', count: 1, via: 'device_request' },
    ],
    [
      'a non-GPU device request',
      request({ Driver: 'other', Capabilities: [['tpu']], Count: -1 }),
      { access: 'none' },
    ],
    [
      '--device /dev/nvidia1 /dev/nvidiactl',
      {
        hostConfig: {
          Devices: [
            { PathOnHost: '/dev/nvidia1', PathInContainer: '/dev/nvidia1', CgroupPermissions: 'rwm' },
            { PathOnHost: '/dev/nvidiactl', PathInContainer: '/dev/nvidiactl', CgroupPermissions: 'rwm' },
          ],
        },
      },
      { access: 'specific', devices: ['1'], via: 'devices' },
    ],
    [
      'NVIDIA_VISIBLE_DEVICES=all under runc grants nothing',
      { env: ['NVIDIA_VISIBLE_DEVICES=all'] },
      { access: 'none' },
    ],
    [
      'NVIDIA_VISIBLE_DEVICES=all under --runtime nvidia',
      { env: ['NVIDIA_VISIBLE_DEVICES=all'], hostConfig: { Runtime: 'nvidia' } },
      { access: 'all', via: 'environment' },
    ],
    [
      'NVIDIA_VISIBLE_DEVICES=0,2 under --runtime nvidia',
      { env: ['NVIDIA_VISIBLE_DEVICES=0,2'], hostConfig: { Runtime: 'nvidia' } },
      { access: 'specific', devices: ['0', '2'], via: 'environment' },
    ],
    [
      'NVIDIA_VISIBLE_DEVICES=void',
      { env: ['NVIDIA_VISIBLE_DEVICES=void'], hostConfig: { Runtime: 'nvidia' } },
      { access: 'none' },
    ],
  ])('%s', (_case, changes, expected) => {
    expect(gpus(changes)).toEqual(expected);
  });

  it("NVIDIA_VISIBLE_DEVICES counts when nvidia is the daemon's default runtime", () => {
    expect(gpus({ env: ['NVIDIA_VISIBLE_DEVICES=all'], hostConfig: { Runtime: '' } }, 'nvidia')).toEqual({
      access: 'all',
      via: 'environment',
    });
  });

  it('the device request wins over the environment', () => {
    expect(gpus({ ...request({ Count: 1 }), env: ['NVIDIA_VISIBLE_DEVICES=all'] }, 'nvidia')).toMatchObject({
      access: 'count',
    });
  });
});
