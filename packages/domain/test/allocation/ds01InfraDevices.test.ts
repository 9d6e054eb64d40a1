import { describe, expect, it } from 'vitest';
import { containerStoppedAt, ds01InfraDevices, ds01InfraGrantTime } from '../../src/index.ts';
import { exitedInspect, inspectWith } from '../containers/inspectFixture.ts';

const MIG = 'MIG-4f7b6f2c-0000-5a1e-9c4d-1b2c3d4e5f60';
const GPU = 'GPU-8d1e0c6a-1111-2222-3333-444455556666';
const nvidia = (deviceIds: string[], count = 0) => ({
  DeviceRequests: [{ Driver: 'nvidia', Count: count, DeviceIDs: deviceIds, Capabilities: [['gpu']] }],
});

describe("what a ds01-infra container holds (real docker inspect, ds01-infra's labels)", () => {
  it("trusts the container's own DeviceRequests first, as its state reader did", () => {
    const inspect = inspectWith({ labels: { 'ds01.gpu.uuids': GPU }, hostConfig: nvidia([MIG]) });
    expect(ds01InfraDevices(inspect, 'runc')).toEqual([MIG]);
  });

  it('reads /dev/nvidia<N> devices as GPU indexes', () => {
    const inspect = inspectWith({
      hostConfig: {
        Devices: [{ PathOnHost: '/dev/nvidia1', PathInContainer: '/dev/nvidia1', CgroupPermissions: 'rwm' }],
      },
    });
    expect(ds01InfraDevices(inspect, 'runc')).toEqual(['1']);
  });

  it('falls back to the labels, in the order ds01-infra wrote and read them', () => {
    expect(
      ds01InfraDevices(inspectWith({ labels: { 'ds01.gpu.uuids': `${MIG}, ${GPU},` } }), 'runc'),
    ).toEqual([MIG, GPU]);
    expect(
      ds01InfraDevices(
        inspectWith({ labels: { 'ds01.gpu_slot': GPU, 'ds01.gpu.allocated': '1.0' } }),
        'runc',
      ),
    ).toEqual([GPU]);
    expect(ds01InfraDevices(inspectWith({ labels: { 'ds01.gpu.allocated': '0,1' } }), 'runc')).toEqual([
      '0',
      '1',
    ]);
  });

  it('holds no slot for `--gpus all`, a count, or no GPU at all', () => {
    expect(ds01InfraDevices(inspectWith({ hostConfig: nvidia([], -1) }), 'runc')).toEqual([]);
    expect(ds01InfraDevices(inspectWith({ hostConfig: nvidia([], 2) }), 'runc')).toEqual([]);
    expect(ds01InfraDevices(inspectWith({ labels: {} }), 'runc')).toEqual([]);
  });

  it('dates the grant by ds01.gpu.allocated_at, else the creation; a stop by FinishedAt', () => {
    const labelled = inspectWith({ labels: { 'ds01.gpu.allocated_at': '2026-02-01T09:00:00Z' } });
    expect(ds01InfraGrantTime(labelled).toISOString()).toBe('2026-02-01T09:00:00.000Z');
    const garbled = inspectWith({ labels: { 'ds01.gpu.allocated_at': 'yesterday' } });
    expect(ds01InfraGrantTime(garbled).toISOString()).toBe(new Date(garbled.Created).toISOString());
    expect(containerStoppedAt(inspectWith({}, exitedInspect))?.toISOString()).toBe(
      new Date(exitedInspect.State.FinishedAt).toISOString(),
    );
    expect(
      containerStoppedAt(inspectWith({ state: { Status: 'created', FinishedAt: '0001-01-01T00:00:00Z' } })),
    ).toBeNull();
    expect(containerStoppedAt(inspectWith({ state: { Status: 'running' } }))).toBeNull();
  });
});
