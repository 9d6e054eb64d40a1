import {
  type CreateDecision,
  createBindSources,
  decideContainerCreate,
  withGrantedDevices,
} from '@ds01/domain';
import { describe, expect, it } from 'vitest';
import { aliceContext, alicesContainer, bodyWith, cliBodies } from './createFixtures.ts';

const GIB = 1024 ** 3;

type Allowed = Extract<CreateDecision, { kind: 'allowed' }>;
// biome-ignore lint/suspicious/noExplicitAny: the tests read deep into JSON bodies
type Body = Record<string, any>;

function allowed(body: unknown, context = aliceContext()): Allowed & { body: Body } {
  const decision = decideContainerCreate({ body, query: {} }, context);
  if (decision.kind !== 'allowed') throw new Error(`refused: ${decision.message}`);
  return decision as Allowed & { body: Body };
}

describe('the create policy rewrites what it allows', () => {
  it("labels the plain CLI body as alice's, puts it in her slice and under her limits", () => {
    const { body, gpuRequest } = allowed(cliBodies.plain);
    expect(gpuRequest).toBeNull();
    expect(body['Labels']).toEqual({
      'ds01.user': 'alice',
      'ds01.user.sanitized': 'alice',
      'ds01.managed': 'true',
      'ds01.interface': 'docker',
      'ds01.container_type': 'docker',
      'ds01.created_at': '2026-12-03T12:00:00.000Z',
    });
    expect(body['HostConfig']).toMatchObject({
      CgroupParent: 'ds01-student-alice.slice',
      NanoCpus: 8e9,
      Memory: 32 * GIB,
      MemorySwap: 32 * GIB,
      ShmSize: 16 * GIB,
      PidsLimit: 4096,
      CapDrop: ['MKNOD'],
      DeviceRequests: [],
    });
    expect(body['Env']).toEqual(['NVIDIA_VISIBLE_DEVICES=void']);
  });

  it('keeps every field it does not rewrite, as the caller wrote it', () => {
    const { body } = allowed(cliBodies.plain);
    const original = cliBodies.plain as Body;
    for (const key of ['Hostname', 'Cmd', 'Image', 'AttachStdout', 'NetworkingConfig', 'OnBuild']) {
      expect(body[key]).toEqual(original[key]);
    }
    for (const key of ['LogConfig', 'RestartPolicy', 'ConsoleSize', 'MemorySwappiness', 'Ulimits']) {
      expect(body['HostConfig'][key]).toEqual(original['HostConfig'][key]);
    }
  });

  it("never changes the caller's object", () => {
    const body = structuredClone(cliBodies['gpus-1-bind-shm-pids']);
    allowed(body);
    expect(body).toEqual(cliBodies['gpus-1-bind-shm-pids']);
  });

  it('turns the captured `--gpus 1` into a request for one device and strips it; keeps limits within hers', () => {
    const { body, gpuRequest } = allowed(cliBodies['gpus-1-bind-shm-pids']);
    expect(gpuRequest).toEqual({ count: 1, profile: null });
    expect(body['HostConfig']).toMatchObject({
      DeviceRequests: [],
      Binds: ['/home/alice/data:/data'],
      ShmSize: 1 * GIB,
      PidsLimit: 100,
    });
    expect(body['Env']).toEqual(['NVIDIA_VISIBLE_DEVICES=void']);
  });

  it.each([
    ['--gpus all is one device, as ds01-infra read it', { Count: -1 }, 1],
    ['--gpus 2', { Count: 2 }, 2],
    ['--gpus device=0,GPU-abc: as many as it names', { DeviceIDs: ['0', 'GPU-abc'] }, 2],
    ["compose's driver: nvidia, count: 1", { Driver: 'nvidia', Count: 1, Capabilities: [['gpu']] }, 1],
  ])('%s', (_name, request, count) => {
    const body = bodyWith({
      DeviceRequests: [{ Driver: '', Count: 0, DeviceIDs: null, Capabilities: [['gpu']], ...request }],
    });
    expect(allowed(body).gpuRequest).toEqual({ count, profile: null });
  });

  it('ds01 container deploy --profile names the profile in the request options', () => {
    const body = bodyWith({
      DeviceRequests: [
        { Driver: 'nvidia', Count: 1, Capabilities: [['gpu']], Options: { 'ds01.profile': '1g.10gb' } },
      ],
    });
    expect(allowed(body).gpuRequest).toEqual({ count: 1, profile: '1g.10gb' });
  });

  it('--gpus 0 asks for nothing', () => {
    const body = bodyWith({ DeviceRequests: [{ Driver: '', Count: 0, Capabilities: [['gpu']] }] });
    expect(allowed(body).gpuRequest).toBeNull();
  });

  it.each([
    ['compose', 'other', 'compose'],
    ['devcontainer', 'vscode', 'devcontainer'],
    ['api', 'api', 'api'],
    ['atomic', 'atomic', 'atomic'],
  ] as const)('labels a %s container in ds01-infra words', (iface, label, type) => {
    const { body } = allowed(cliBodies.plain, aliceContext({ interface: iface }));
    expect(body['Labels']).toMatchObject({ 'ds01.interface': label, 'ds01.container_type': type });
  });

  it("keeps the caller's own labels (compose's, devcontainer's): they are claims, the socket is the owner", () => {
    const labels = { 'com.docker.compose.project': 'p', 'devcontainer.local_folder': '/home/bob/x' };
    const { body } = allowed(bodyWith({}, { Labels: labels }));
    expect(body['Labels']).toMatchObject({ ...labels, 'ds01.user': 'alice' });
  });

  it('accepts a name that carries her own uid, as ds01-infra names containers', () => {
    const decision = decideContainerCreate(
      { body: cliBodies.plain, query: { name: 'proj._.1001' } },
      aliceContext(),
    );
    expect(decision.kind).toBe('allowed');
  });

  it("accepts her own slice as cgroup parent (ds01-infra's tools pass it)", () => {
    const { body } = allowed(bodyWith({ CgroupParent: 'ds01-student-alice.slice' }));
    expect(body['HostConfig'].CgroupParent).toBe('ds01-student-alice.slice');
  });

  it('names a sanitised user and an override group as ds01-infra does', () => {
    const context = aliceContext({
      user: { name: 'h.baker@uni.edu', uid: 1002, gid: 1002, group: 'override' },
    });
    const { body } = allowed(cliBodies.plain, context);
    expect(body['HostConfig'].CgroupParent).toBe('ds01-override-h_baker.slice');
    expect(body['Labels']).toMatchObject({
      'ds01.user': 'h.baker@uni.edu',
      'ds01.user.sanitized': 'h_baker',
    });
  });

  it('keeps limits below hers and fills the rest', () => {
    const { body } = allowed(bodyWith({ NanoCpus: 2e9, Memory: 4 * GIB }));
    expect(body['HostConfig']).toMatchObject({ NanoCpus: 2e9, Memory: 4 * GIB, MemorySwap: 32 * GIB });
  });

  it('gives a CPU period alone the quota of her CPUs (Docker refuses NanoCpus beside a period)', () => {
    const { body } = allowed(bodyWith({ CpuPeriod: 50_000 }));
    expect(body['HostConfig']).toMatchObject({ CpuPeriod: 50_000, CpuQuota: 400_000, NanoCpus: 0 });
  });

  it('keeps a quota within her CPUs', () => {
    const { body } = allowed(bodyWith({ CpuQuota: 200_000 }));
    expect(body['HostConfig']).toMatchObject({ CpuQuota: 200_000, NanoCpus: 0 });
  });

  it('leaves unlimited limits alone', () => {
    const limits = {
      max_cpus: null,
      memory: null,
      memory_swap: null,
      shm_size: null,
      pids_limit: null,
      max_containers_per_user: null,
      max_gpu_slots_per_container: null,
    };
    const { body } = allowed(bodyWith({ Memory: 512 * GIB, PidsLimit: -1 }), aliceContext({ limits }));
    expect(body['HostConfig']).toMatchObject({ Memory: 512 * GIB, PidsLimit: -1, NanoCpus: 0 });
  });

  it('rewrites references to her own containers to their full ids', () => {
    const { body } = allowed(
      bodyWith({
        NetworkMode: `container:${alicesContainer.name}`,
        VolumesFrom: [`${alicesContainer.name}:ro`],
        Links: [`/${alicesContainer.name}:db`],
      }),
    );
    expect(body['HostConfig']).toMatchObject({
      NetworkMode: `container:${alicesContainer.id}`,
      VolumesFrom: [`${alicesContainer.id}:ro`],
      Links: [`${alicesContainer.id}:db`],
    });
  });

  it('forwards the real path it checked, `..` resolved', () => {
    const { body } = allowed(
      bodyWith({
        Binds: ['/home/alice/proj/../data:/data:ro', '/home/alice/link:/l', 'named:/v', '/anon'],
        Mounts: [{ Type: 'bind', Source: '/data/shared/x/', Target: '/x' }],
      }),
      aliceContext({ realPaths: { '/home/alice/link': '/data/shared/big' } }),
    );
    expect(body['HostConfig'].Binds).toEqual([
      '/home/alice/data:/data:ro',
      '/data/shared/big:/l',
      'named:/v',
      '/anon',
    ]);
    expect(body['HostConfig'].Mounts[0].Source).toBe('/data/shared/x');
  });

  it('allows what confines the container no less', () => {
    const { body } = allowed(
      bodyWith({
        CapAdd: ['CAP_SYS_PTRACE'],
        SecurityOpt: ['no-new-privileges', 'apparmor=docker-default', 'label=level:s0:c100'],
        Sysctls: { 'net.ipv4.ip_unprivileged_port_start': '0', 'kernel.shmmax': '1000000' },
        PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }] },
        Devices: [{ PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' }],
        Runtime: 'runc',
        OomScoreAdj: 500,
      }),
    );
    expect(body['HostConfig'].CapDrop).toEqual(['MKNOD']);
  });

  it('keeps CAP_MKNOD when the allowlist let her add it', () => {
    const context = aliceContext({ capabilityAllowlist: ['MKNOD'] });
    const { body } = allowed(bodyWith({ CapAdd: ['MKNOD'] }), context);
    expect(body['HostConfig'].CapDrop).toBeNull();
  });

  it("keeps NVIDIA_VISIBLE_DEVICES=none (tools, no device) and replaces the image's `all` by void", () => {
    expect(allowed(bodyWith({}, { Env: ['NVIDIA_VISIBLE_DEVICES=none', 'A=1'] })).body['Env']).toEqual([
      'A=1',
      'NVIDIA_VISIBLE_DEVICES=none',
    ]);
    expect(allowed(bodyWith({}, { Env: ['CUDA_VISIBLE_DEVICES=0'] })).body['Env']).toEqual([
      'CUDA_VISIBLE_DEVICES=0',
      'NVIDIA_VISIBLE_DEVICES=void',
    ]);
  });

  it('allows the daemon default runtime named explicitly', () => {
    const context = aliceContext({ daemonDefaultRuntime: 'nvidia' });
    const { body } = allowed(bodyWith({ Runtime: 'nvidia' }), context);
    expect(body['Env']).toEqual(['NVIDIA_VISIBLE_DEVICES=void']);
  });

  it('allows a newer HostConfig field that holds its zero value', () => {
    expect(
      allowed(bodyWith({ SomethingNew: { Enabled: false, List: [] } })).body['HostConfig'].SomethingNew,
    ).toEqual({
      Enabled: false,
      List: [],
    });
  });
});

describe('withGrantedDevices', () => {
  const decided = () => allowed(cliBodies['gpus-1-bind-shm-pids']).body;

  it('puts one granted device back as a DeviceRequest, NVIDIA_VISIBLE_DEVICES and CUDA_VISIBLE_DEVICES', () => {
    const body = withGrantedDevices(decided(), ['MIG-1111']) as Body;
    expect(body['HostConfig'].DeviceRequests).toEqual([
      { Driver: 'nvidia', Count: 0, DeviceIDs: ['MIG-1111'], Capabilities: [['gpu']], Options: {} },
    ]);
    expect(body['Env']).toEqual(['NVIDIA_VISIBLE_DEVICES=MIG-1111', 'CUDA_VISIBLE_DEVICES=MIG-1111']);
    expect(body['Labels']).toMatchObject({ 'ds01.gpu.uuids': 'MIG-1111', 'ds01.user': 'alice' });
  });

  it('puts several back in one request, without CUDA_VISIBLE_DEVICES (as ds01-infra did for multi-MIG)', () => {
    const body = withGrantedDevices(decided(), ['MIG-1', 'MIG-2']) as Body;
    expect(body['HostConfig'].DeviceRequests[0].DeviceIDs).toEqual(['MIG-1', 'MIG-2']);
    expect(body['Env']).toEqual(['NVIDIA_VISIBLE_DEVICES=MIG-1,MIG-2']);
  });

  it("keeps the caller's CUDA_VISIBLE_DEVICES index", () => {
    const start = allowed(bodyWith({}, { Env: ['CUDA_VISIBLE_DEVICES=0'] })).body;
    expect((withGrantedDevices(start, ['GPU-9']) as Body)['Env']).toEqual([
      'CUDA_VISIBLE_DEVICES=0',
      'NVIDIA_VISIBLE_DEVICES=GPU-9',
    ]);
  });

  it('with no device, adds no request and keeps NVIDIA_VISIBLE_DEVICES=void', () => {
    const body = withGrantedDevices(decided(), []) as Body;
    expect(body['HostConfig'].DeviceRequests).toEqual([]);
    expect(body['Env']).toEqual(['NVIDIA_VISIBLE_DEVICES=void']);
    expect(body['Labels']['ds01.gpu.uuids']).toBeUndefined();
  });

  it('does not change the body it is given', () => {
    const body = decided();
    const copy = structuredClone(body);
    withGrantedDevices(body, ['GPU-1']);
    expect(body).toEqual(copy);
  });
});

describe('createBindSources', () => {
  it('lists the host paths the gateway must resolve, normalised, once each', () => {
    const body = bodyWith({
      Binds: ['/home/alice/a/../b:/b', 'named:/v', '/anon', '/home/alice/b/:/c:ro'],
      Mounts: [
        { Type: 'bind', Source: '/data/shared/x', Target: '/x' },
        { Type: 'volume', Source: 'v', Target: '/y' },
      ],
    });
    expect(createBindSources(body)).toEqual(['/home/alice/b', '/data/shared/x']);
    expect(createBindSources('not a body')).toEqual([]);
  });
});
