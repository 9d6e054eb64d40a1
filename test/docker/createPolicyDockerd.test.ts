import { readFileSync } from 'node:fs';
import { type CreatePolicyContext, decideContainerCreate, withGrantedDevices } from '@ds01/domain';
import { afterAll, expect, it } from 'vitest';
import { cleanupTestRun, describeWithDocker, TEST_RUN_LABEL, uniqueName } from '../support/docker.ts';
import { nvidiaDevicesOf } from '../support/nvidiaToolkit.ts';

/**
 * What the create policy forwards, the real dockerd accepts and runs as decided: the body the docker
 * CLI sent (captured), rewritten for alice, created and started on the test dockerd; inspect shows the
 * limits, slice, labels and confinement the policy set. A body with granted devices starts too: the
 * test dockerd's stand-in NVIDIA toolkit hook records the devices dockerd handed it (there is no GPU
 * here, so that record is what a real toolkit would have mounted).
 */

const cliBodies = JSON.parse(
  readFileSync(
    new URL('../../packages/domain/test/gateway/fixtures/dockerCliCreateBodies.json', import.meta.url),
    'utf8',
  ),
) as Record<string, Record<string, unknown>>;

const MIB = 1024 ** 2;
const context: CreatePolicyContext = {
  user: { name: 'alice', uid: 1001, gid: 1001, group: 'student' },
  interface: 'docker',
  limits: {
    max_cpus: 1,
    memory: 256 * MIB,
    memory_swap: 256 * MIB,
    shm_size: 64 * MIB,
    pids_limit: 100,
    max_containers_per_user: 3,
    max_gpu_slots_per_container: 1,
  },
  runningContainers: 0,
  allowedBindRoots: ['/tmp'],
  capabilityAllowlist: [],
  daemonDefaultRuntime: 'runc',
  now: new Date().toISOString(),
};

describeWithDocker('the create policy against the real dockerd', (td) => {
  afterAll(() => cleanupTestRun(td));

  const decided = (body: Record<string, unknown>) => {
    const decision = decideContainerCreate({ body: { ...body, Image: td.image }, query: {} }, context);
    if (decision.kind !== 'allowed') throw new Error(decision.message);
    // The run label is DS01's own namespace, which the policy refuses from callers: the test adds it after.
    return {
      ...decision,
      body: {
        ...decision.body,
        Labels: { ...(decision.body['Labels'] as object), [TEST_RUN_LABEL]: td.runId },
      },
    };
  };

  it('creates and runs the rewritten CLI body with her limits, slice and labels', async () => {
    const { body } = decided({
      ...cliBodies['plain'],
      Cmd: ['sh', '-c', 'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max'],
    });
    const container = await td.docker.createContainer({ ...body, name: uniqueName(td, 'policy') } as never);
    await container.start();
    const { StatusCode } = await container.wait();
    expect(StatusCode).toBe(0);
    expect((await container.logs({ stdout: true })).toString('utf8')).toContain('100');
    const inspect = await container.inspect();
    expect(inspect.HostConfig).toMatchObject({
      CgroupParent: 'ds01-student-alice.slice',
      NanoCpus: 1e9,
      Memory: 256 * MIB,
      MemorySwap: 256 * MIB,
      ShmSize: 64 * MIB,
      PidsLimit: 100,
      CapDrop: ['MKNOD'],
    });
    expect(inspect.Config.Labels).toMatchObject({
      'ds01.user': 'alice',
      'ds01.managed': 'true',
      'ds01.interface': 'docker',
      'ds01.container_type': 'docker',
    });
    expect(inspect.Config.Env).toContain('NVIDIA_VISIBLE_DEVICES=void');
  });

  it('starts a GPU body dockerd reads as one nvidia request: the toolkit hook is given the granted device', async () => {
    const captured = cliBodies['gpus-1-bind-shm-pids']!;
    const hostConfig = { ...(captured['HostConfig'] as object), Binds: ['/tmp:/data'], ShmSize: 0 };
    const { body, gpuRequest } = decided({ ...captured, HostConfig: hostConfig });
    expect(gpuRequest).toEqual({ count: 1, profile: null });
    const device = 'MIG-00111111-aaaa-bbbb-cccc-000000000000';
    const granted = withGrantedDevices(
      { ...body, Cmd: ['sh', '-c', 'echo "$NVIDIA_VISIBLE_DEVICES $CUDA_VISIBLE_DEVICES"'] },
      [device],
    );
    const container = await td.docker.createContainer({ ...granted, name: uniqueName(td, 'gpu') } as never);
    // dockerd reads it as one nvidia request: its nvidia driver runs the toolkit hook with that device.
    await container.start();
    expect((await container.wait()).StatusCode).toBe(0);
    expect((await container.logs({ stdout: true })).toString('utf8')).toContain(`${device} ${device}`);
    expect(await nvidiaDevicesOf(container.id)).toEqual([device]);
    const inspect = await container.inspect();
    expect(inspect.HostConfig.DeviceRequests).toEqual([
      expect.objectContaining({ Driver: 'nvidia', DeviceIDs: [device] }),
    ]);
  });

  it('a GPU request left as indices (not rewritten to UUIDs) does not start: the hook refuses it', async () => {
    const { body } = decided({ ...cliBodies['plain'] });
    const unrewritten = {
      ...body,
      HostConfig: {
        ...((body as Record<string, unknown>)['HostConfig'] as object),
        DeviceRequests: [{ Driver: 'nvidia', Count: 1, Capabilities: [['gpu']] }],
      },
    };
    const container = await td.docker.createContainer({
      ...unrewritten,
      name: uniqueName(td, 'idx'),
    } as never);
    await expect(container.start()).rejects.toThrow(/unknown device/);
    expect(await nvidiaDevicesOf(container.id)).toEqual(['0']);
  });
});
