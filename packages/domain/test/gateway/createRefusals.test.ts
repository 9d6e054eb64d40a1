import { type CreatePolicyContext, CreateRule, decideContainerCreate } from '@ds01/domain';
import { describe, expect, it } from 'vitest';
import { aliceContext, bobsContainer, bodyWith, cliBodies } from './createFixtures.ts';

const GIB = 1024 ** 3;
const gpus = (request: Record<string, unknown>) => ({
  DeviceRequests: [
    { Driver: '', Count: 0, DeviceIDs: null, Capabilities: [['gpu']], Options: {}, ...request },
  ],
});

type Case = [
  description: string,
  body: unknown,
  rule: CreateRule,
  message: RegExp,
  context?: Partial<CreatePolicyContext>,
  name?: string,
];

// Given alice's socket and her limits, when this create arrives, then it is refused by this rule.
const cases: Case[] = [
  ['a body that is not an object', 'nonsense', 'invalid-body', /JSON object/],
  ['HostConfig.Memory a string', bodyWith({ Memory: '1g' }), 'invalid-body', /HostConfig\.Memory/],
  ['--label ds01.user=bob', bodyWith({}, { Labels: { 'ds01.user': 'bob' } }), 'reserved-label', /ds01\.user/],
  [
    '--label aime.mlc.USER=bob',
    bodyWith({}, { Labels: { 'aime.mlc.USER': 'bob' } }),
    'reserved-label',
    /aime/,
  ],
  ['--label aime.mlc=bob', bodyWith({}, { Labels: { 'aime.mlc': 'bob' } }), 'reserved-label', /aime\.mlc/],
  [
    "--cgroup-parent bob's slice",
    bodyWith({ CgroupParent: 'ds01-student-bob.slice' }),
    'cgroup-parent',
    /ds01-student-alice\.slice/,
  ],
  ["--name x._.1018 (bob's uid)", cliBodies.plain, 'container-name', /\._\.1018.*1001/, {}, 'x._.1018'],
  ['--cpus 9 (max 8)', bodyWith({ NanoCpus: 9e9 }), 'cpu-limit', /9 CPUs.*max_cpus/],
  ['--cpu-quota 900000 (9 CPUs)', bodyWith({ CpuQuota: 900_000 }), 'cpu-limit', /9 CPUs/],
  [
    '--cpu-quota 90000 --cpu-period 10000',
    bodyWith({ CpuQuota: 90_000, CpuPeriod: 10_000 }),
    'cpu-limit',
    /9 CPUs/,
  ],
  ['--cpu-quota -1 (unlimited)', bodyWith({ CpuQuota: -1 }), 'cpu-limit', /Infinity CPUs/],
  ['--memory 33g (max 32g)', bodyWith({ Memory: 33 * GIB }), 'memory-limit', /33g asked.*32g/],
  ['Memory -1', bodyWith({ Memory: -1 }), 'memory-limit', /no limit asked/],
  ['--memory-swap -1', bodyWith({ MemorySwap: -1 }), 'memory-swap-limit', /unlimited swap/],
  ['--memory-swap 64g', bodyWith({ MemorySwap: 64 * GIB }), 'memory-swap-limit', /64g asked/],
  ['--shm-size 17g', bodyWith({ ShmSize: 17 * GIB }), 'shm-size-limit', /17g.*shm_size/],
  ['--pids-limit -1', bodyWith({ PidsLimit: -1 }), 'pids-limit', /no process limit/],
  ['--pids-limit 5000', bodyWith({ PidsLimit: 5000 }), 'pids-limit', /5000 processes.*4096/],
  [
    'a 4th container (max 3)',
    cliBodies.plain,
    'max-containers',
    /3 containers.*at most 3/,
    { runningContainers: 3 },
  ],
  [
    '--gpus 3 (max 2 per container)',
    bodyWith(gpus({ Count: 3 })),
    'gpu-slots-per-container',
    /3 GPU devices/,
  ],
  [
    '--gpus device=0,1,2 (max 2)',
    bodyWith(gpus({ DeviceIDs: ['0', '1', '2'] })),
    'gpu-slots-per-container',
    /3 GPU devices/,
  ],
  [
    'a CDI device request (--device nvidia.com/gpu=all)',
    bodyWith({
      DeviceRequests: [{ Driver: 'cdi', DeviceIDs: ['nvidia.com/gpu=all'], Capabilities: [['cdi']] }],
    }),
    'gpu-request',
    /driver "cdi"/,
  ],
  [
    'two GPU requests',
    bodyWith({
      DeviceRequests: [...gpus({ Count: 1 }).DeviceRequests, ...gpus({ Count: 1 }).DeviceRequests],
    }),
    'gpu-request',
    /2 GPU requests/,
  ],
  ['--gpus -2', bodyWith(gpus({ Count: -2 })), 'gpu-request', /not a number/],
  [
    'a profile option that is no profile',
    bodyWith(gpus({ Count: 1, Options: { 'ds01.profile': '../x' } })),
    'gpu-request',
    /not a GPU profile/,
  ],
  ['--privileged', bodyWith({ Privileged: true }), 'privileged', /--privileged/],
  ['--cap-add SYS_ADMIN', bodyWith({ CapAdd: ['CAP_SYS_ADMIN'] }), 'cap-add', /CAP_SYS_ADMIN.*SYS_PTRACE/],
  ['--cap-add ALL', bodyWith({ CapAdd: ['ALL'] }), 'cap-add', /ALL/],
  ['--network host', bodyWith({ NetworkMode: 'host' }), 'host-namespace', /--network host/],
  ['--pid host', bodyWith({ PidMode: 'host' }), 'host-namespace', /--pid host/],
  ['--ipc host', bodyWith({ IpcMode: 'host' }), 'host-namespace', /--ipc host/],
  ['--uts host', bodyWith({ UTSMode: 'host' }), 'host-namespace', /--uts host/],
  ['--userns host', bodyWith({ UsernsMode: 'host' }), 'host-namespace', /--userns host/],
  [
    'EndpointsConfig host',
    bodyWith({}, { NetworkingConfig: { EndpointsConfig: { host: {} } } }),
    'host-namespace',
    /'host'/,
  ],
  [
    "--network container:<bob's>",
    bodyWith({ NetworkMode: `container:${bobsContainer.id}` }),
    'foreign-container',
    /not one of your containers/,
  ],
  [
    "--pid container:<bob's name>",
    bodyWith({ PidMode: `container:${bobsContainer.name}` }),
    'foreign-container',
    /bobs-db/,
  ],
  [
    '--ipc container:<a prefix of her own id>',
    bodyWith({ IpcMode: 'container:aaaa' }),
    'foreign-container',
    /full id or name/,
  ],
  [
    "--volumes-from bob's",
    bodyWith({ VolumesFrom: [`${bobsContainer.name}:ro`] }),
    'foreign-container',
    /bobs-db/,
  ],
  ["--link bob's", bodyWith({ Links: [`/${bobsContainer.name}:db`] }), 'foreign-container', /bobs-db/],
  [
    '--device /dev/nvidia0',
    bodyWith({
      Devices: [{ PathOnHost: '/dev/nvidia0', PathInContainer: '/dev/nvidia0', CgroupPermissions: 'rwm' }],
    }),
    'gpu-devices',
    /\/dev\/nvidia0/,
  ],
  [
    '--device /dev/nvidiactl',
    bodyWith({ Devices: [{ PathOnHost: '/dev/nvidiactl' }] }),
    'gpu-devices',
    /nvidiactl/,
  ],
  [
    '--device /dev/nvidia-caps/nvidia-cap1',
    bodyWith({ Devices: [{ PathOnHost: '/dev/nvidia-caps/nvidia-cap1' }] }),
    'gpu-devices',
    /nvidia-caps/,
  ],
  [
    '--device /dev/dri/renderD128',
    bodyWith({ Devices: [{ PathOnHost: '/dev/dri/renderD128' }] }),
    'gpu-devices',
    /dri/,
  ],
  [
    '--device-cgroup-rule "c 195:* rwm"',
    bodyWith({ DeviceCgroupRules: ['c 195:* rwm'] }),
    'gpu-devices',
    /195/,
  ],
  [
    '--device /dev/sda',
    bodyWith({ Devices: [{ PathOnHost: '/dev/sda' }] }),
    'devices',
    /\/dev\/sda.*\/dev\/fuse/,
  ],
  [
    'a mount at /var/run/nvidia-container-devices/all',
    bodyWith({ Binds: ['/home/alice/empty:/var/run/nvidia-container-devices/all'] }),
    'gpu-devices',
    /nvidia-container-devices/,
  ],
  [
    'an anonymous volume at /var/run/nvidia-container-devices/GPU-1',
    bodyWith({}, { Volumes: { '/var/run/nvidia-container-devices/GPU-1': {} } }),
    'gpu-devices',
    /nvidia-container-devices/,
  ],
  [
    '-e NVIDIA_VISIBLE_DEVICES=all',
    bodyWith({}, { Env: ['NVIDIA_VISIBLE_DEVICES=all'] }),
    'gpu-environment',
    /NVIDIA_VISIBLE_DEVICES=all/,
  ],
  [
    '-e NVIDIA_VISIBLE_DEVICES=0 beside --gpus 1',
    bodyWith(gpus({ Count: 1 }), { Env: ['NVIDIA_VISIBLE_DEVICES=0'] }),
    'gpu-environment',
    /did not grant/,
  ],
  [
    '-e NVIDIA_VISIBLE_DEVICES=all under the nvidia default runtime',
    bodyWith({}, { Env: ['NVIDIA_VISIBLE_DEVICES=all'] }),
    'gpu-environment',
    /NVIDIA_VISIBLE_DEVICES/,
    { daemonDefaultRuntime: 'nvidia' },
  ],
  [
    '-e CUDA_VISIBLE_DEVICES=GPU-<uuid>',
    bodyWith({}, { Env: ['CUDA_VISIBLE_DEVICES=GPU-1234-5678'] }),
    'gpu-environment',
    /UUID/,
  ],
  ['-e NVIDIA_GDS=enabled', bodyWith({}, { Env: ['NVIDIA_GDS=enabled'] }), 'gpu-environment', /NVIDIA_GDS/],
  [
    '-v /etc:/etc',
    bodyWith({ Binds: ['/etc:/host-etc'] }),
    'bind-outside-roots',
    /\/etc is outside.*\/home\/alice/,
  ],
  [
    "-v /home/bob:/w (bob's home)",
    bodyWith({ Binds: ['/home/bob:/w'] }),
    'bind-outside-roots',
    /\/home\/bob/,
  ],
  [
    '-v /home/alice/../bob:/w',
    bodyWith({ Binds: ['/home/alice/../bob:/w:ro'] }),
    'bind-outside-roots',
    /\/home\/alice\/\.\.\/bob/,
  ],
  [
    '-v /home/alicex:/w (a sibling sharing the prefix)',
    bodyWith({ Binds: ['/home/alicex:/w'] }),
    'bind-outside-roots',
    /alicex/,
  ],
  [
    'a symlink in her home that leads to /etc',
    bodyWith({ Binds: ['/home/alice/link:/w'] }),
    'bind-outside-roots',
    /which is \/etc/,
    { realPaths: { '/home/alice/link': '/etc' } },
  ],
  [
    '--mount type=bind,src=/srv',
    bodyWith({ Mounts: [{ Type: 'bind', Source: '/srv', Target: '/srv' }] }),
    'bind-outside-roots',
    /\/srv/,
  ],
  [
    '--mount type=bind with a relative source',
    bodyWith({ Mounts: [{ Type: 'bind', Source: 'x', Target: '/x' }] }),
    'bind-outside-roots',
    /not an absolute path/,
  ],
  [
    '-v /var/run/docker.sock',
    bodyWith({ Binds: ['/var/run/docker.sock:/var/run/docker.sock'] }),
    'docker-socket',
    /docker/,
  ],
  ['-v /run/docker.sock', bodyWith({ Binds: ['/run/docker.sock:/s'] }), 'docker-socket', /docker/],
  ['-v /run (holds the socket)', bodyWith({ Binds: ['/run:/r'] }), 'docker-socket', /\/run/],
  ['-v /:/host', bodyWith({ Binds: ['/:/host'] }), 'docker-socket', /whole host/],
  [
    '-v /home/alice/../..:/host (`/` by ..)',
    bodyWith({ Binds: ['/home/alice/../..:/host'] }),
    'docker-socket',
    /whole host/,
  ],
  [
    "-v /run/ds01/users/bob/docker.sock (bob's gateway socket)",
    bodyWith({ Binds: ['/run/ds01/users/bob/docker.sock:/s'] }),
    'docker-socket',
    /ds01/,
  ],
  [
    '-v /var/lib/ds01 (the store)',
    bodyWith({ Binds: ['/var/lib/ds01:/s'] }),
    'docker-socket',
    /var\/lib\/ds01/,
  ],
  [
    'a symlink in her home to the docker socket',
    bodyWith({ Binds: ['/home/alice/s:/s'] }),
    'docker-socket',
    /\/var\/run\/docker\.sock/,
    { realPaths: { '/home/alice/s': '/var/run/docker.sock' } },
  ],
  [
    'the docker socket inside an allowed root',
    bodyWith({ Binds: ['/data/shared/docker.sock:/s'] }),
    'docker-socket',
    /docker/,
  ],
  [
    '--mount type=volume with o=bind,device=/etc',
    bodyWith({
      Mounts: [
        {
          Type: 'volume',
          Target: '/e',
          VolumeOptions: {
            DriverConfig: { Name: 'local', Options: { type: 'none', o: 'bind', device: '/etc' } },
          },
        },
      ],
    }),
    'volume-driver',
    /driver options/,
  ],
  ['--volume-driver some-plugin', bodyWith({ VolumeDriver: 'some-plugin' }), 'volume-driver', /some-plugin/],
  [
    '--security-opt seccomp=unconfined',
    bodyWith({ SecurityOpt: ['seccomp=unconfined'] }),
    'security-opt',
    /seccomp=unconfined/,
  ],
  [
    '--security-opt seccomp=<a custom profile>',
    bodyWith({ SecurityOpt: ['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}'] }),
    'security-opt',
    /seccomp=/,
  ],
  [
    '--security-opt apparmor=unconfined',
    bodyWith({ SecurityOpt: ['apparmor=unconfined'] }),
    'security-opt',
    /apparmor/,
  ],
  [
    '--security-opt apparmor:unconfined',
    bodyWith({ SecurityOpt: ['apparmor:unconfined'] }),
    'security-opt',
    /apparmor/,
  ],
  [
    '--security-opt label=disable',
    bodyWith({ SecurityOpt: ['label=disable'] }),
    'security-opt',
    /label=disable/,
  ],
  [
    '--security-opt label=type:spc_t',
    bodyWith({ SecurityOpt: ['label=type:spc_t'] }),
    'security-opt',
    /spc_t/,
  ],
  [
    '--security-opt systempaths=unconfined',
    bodyWith({ SecurityOpt: ['systempaths=unconfined'] }),
    'security-opt',
    /systempaths/,
  ],
  [
    '--security-opt writable-cgroups=true',
    bodyWith({ SecurityOpt: ['writable-cgroups=true'] }),
    'security-opt',
    /cgroups/,
  ],
  ['MaskedPaths []', bodyWith({ MaskedPaths: [] }), 'masked-paths', /MaskedPaths/],
  ['--runtime nvidia', bodyWith({ Runtime: 'nvidia' }), 'runtime', /--runtime nvidia/],
  ['--runtime runsc', bodyWith({ Runtime: 'runsc' }), 'runtime', /runsc/],
  [
    '--sysctl kernel.core_pattern',
    bodyWith({ Sysctls: { 'kernel.core_pattern': '|/tmp/x' } }),
    'sysctls',
    /core_pattern/,
  ],
  [
    'a CDI annotation',
    bodyWith({ Annotations: { 'cdi.k8s.io/gpu': 'nvidia.com/gpu=all' } }),
    'annotations',
    /cdi\.k8s\.io/,
  ],
  ['--oom-score-adj -1000', bodyWith({ OomScoreAdj: -1000 }), 'oom-score', /-1000/],
  ['--cpu-rt-runtime 950000', bodyWith({ CpuRealtimeRuntime: 950_000 }), 'realtime-cpu', /realtime/],
  [
    '-p 22:22',
    bodyWith({ PortBindings: { '22/tcp': [{ HostIp: '', HostPort: '22' }] } }),
    'privileged-port',
    /host port 22/,
  ],
  [
    'a HostConfig field newer than the policy',
    bodyWith({ GpuMagic: { all: true } }),
    'unknown-field',
    /GpuMagic/,
  ],
];

describe('the create policy refuses, naming the rule', () => {
  it.each(cases.map((c) => [`${c[0]} → ${c[2]}`, c] as const))(
    '%s',
    (_name, [, body, rule, message, context, name]) => {
      const decision = decideContainerCreate({ body, query: name ? { name } : {} }, aliceContext(context));
      expect(decision).toMatchObject({ kind: 'refused', rule });
      if (decision.kind !== 'refused') return;
      expect(decision.message).toMatch(message);
      expect(decision.message).toContain(`(${rule})`);
    },
  );

  it("refuses the captured hostile CLI body (device=0,1, bob's label, his slice, the nvidia runtime)", () => {
    const decision = decideContainerCreate({ body: cliBodies.hostile, query: {} }, aliceContext());
    expect(decision.kind).toBe('refused');
  });

  it('every rule has a case here', () => {
    const covered = new Set(cases.map(([, , rule]) => rule));
    expect(CreateRule.options.filter((rule) => !covered.has(rule))).toEqual([]);
  });
});
