import { posix } from 'node:path';
import { type CreatePolicyContext, decideContainerCreate } from '@ds01/domain';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aliceContext, alicesContainer, bobsContainer, bodyWith } from './createFixtures.ts';

/**
 * Whatever the policy allows holds nothing it forbids. The bodies mix every dangerous value the
 * rules know with harmless ones; the check below is written from the rules' statement, not from the
 * code, so a rule the code forgets to apply on some path shows up as a counterexample.
 */

const RUNS = Number(process.env.DS01_PROPERTY_RUNS ?? 2000);
const GIB = 1024 ** 3;

const own = alicesContainer;
const maybe = <T>(values: fc.Arbitrary<T>) => fc.option(values, { nil: undefined });
const oneOfValues = <T>(...values: T[]) => fc.constantFrom(...values);

const namespaceMode = oneOfValues(
  '',
  'default',
  'host',
  'bridge',
  'none',
  `container:${own.id}`,
  `container:${own.name}`,
  `container:${bobsContainer.id}`,
  `container:${bobsContainer.name}`,
  'container:aaaa',
);
const bindSource = oneOfValues(
  '/home/alice',
  '/home/alice/data',
  '/home/alice/../bob',
  '/home/alice/../../',
  '/home/alicex',
  '/home/bob',
  '/data/shared/x',
  '/data/shared/../../etc',
  '/',
  '/run',
  '/var/run/docker.sock',
  '/run/ds01/users/bob',
  '/home/alice/link-to-etc',
  '/home/alice/link-to-sock',
  'named-volume',
  '/etc',
);
const realPaths = { '/home/alice/link-to-etc': '/etc', '/home/alice/link-to-sock': '/run/docker.sock' };

const env = oneOfValues(
  'A=1',
  'NVIDIA_VISIBLE_DEVICES=all',
  'NVIDIA_VISIBLE_DEVICES=0',
  'NVIDIA_VISIBLE_DEVICES=void',
  'NVIDIA_VISIBLE_DEVICES=none',
  'NVIDIA_VISIBLE_DEVICES=',
  'CUDA_VISIBLE_DEVICES=0',
  'CUDA_VISIBLE_DEVICES=MIG-1234',
  'NVIDIA_GDS=enabled',
  'NVIDIA_MOFED=disabled',
);
const device = oneOfValues(
  '/dev/fuse',
  '/dev/nvidia0',
  '/dev/nvidiactl',
  '/dev/dri/card0',
  '/dev/sda',
  '/dev/kvm',
);
const gpuRequest = oneOfValues(
  { Driver: '', Count: -1, Capabilities: [['gpu']] },
  { Driver: '', Count: 1, Capabilities: [['gpu']] },
  { Driver: '', Count: 3, Capabilities: [['gpu']] },
  { Driver: 'nvidia', Count: 0, DeviceIDs: ['0', '1'] },
  { Driver: 'cdi', DeviceIDs: ['nvidia.com/gpu=all'], Capabilities: [['cdi']] },
);
const size = oneOfValues(0, -1, 1 * GIB, 16 * GIB, 32 * GIB, 33 * GIB, 100 * GIB);

const hostFields = {
  Privileged: fc.boolean(),
  CapAdd: fc.array(oneOfValues('SYS_PTRACE', 'CAP_SYS_PTRACE', 'SYS_ADMIN', 'CAP_NET_ADMIN', 'ALL', 'MKNOD')),
  CapDrop: maybe(fc.array(oneOfValues('ALL', 'NET_RAW'))),
  NetworkMode: namespaceMode,
  PidMode: namespaceMode,
  IpcMode: namespaceMode,
  UTSMode: oneOfValues('', 'host'),
  UsernsMode: oneOfValues('', 'host'),
  CgroupParent: oneOfValues('', 'ds01-student-alice.slice', 'ds01-student-bob.slice', 'user-0.slice'),
  VolumesFrom: fc.array(oneOfValues(own.name, `${own.id}:ro`, bobsContainer.name, 'other')),
  Links: fc.array(oneOfValues(`/${own.name}:db`, `/${bobsContainer.name}:db`)),
  Binds: fc.array(
    fc
      .tuple(bindSource, oneOfValues('/w', '/var/run/nvidia-container-devices/all'), oneOfValues('', ':ro'))
      .map(([s, t, o]) => `${s}:${t}${o}`),
  ),
  Mounts: fc.array(
    fc.oneof(
      bindSource.map((Source) => ({ Type: 'bind', Source, Target: '/m' })),
      fc.constant({
        Type: 'volume',
        Target: '/v',
        VolumeOptions: { DriverConfig: { Name: 'local', Options: { o: 'bind', device: '/' } } },
      }),
      fc.constant({ Type: 'tmpfs', Target: '/t' }),
    ),
  ),
  Devices: fc.array(device.map((PathOnHost) => ({ PathOnHost, PathInContainer: PathOnHost }))),
  DeviceCgroupRules: maybe(fc.array(oneOfValues('c 195:* rwm'))),
  DeviceRequests: fc.array(gpuRequest, { maxLength: 2 }),
  SecurityOpt: fc.array(
    oneOfValues(
      'no-new-privileges',
      'seccomp=unconfined',
      'seccomp:unconfined',
      'apparmor=unconfined',
      'apparmor=docker-default',
      'label=disable',
      'label=type:spc_t',
      'systempaths=unconfined',
    ),
  ),
  MaskedPaths: maybe(fc.constant([] as string[])),
  Runtime: oneOfValues('', 'runc', 'nvidia', 'runsc'),
  Sysctls: maybe(
    fc.dictionary(
      oneOfValues('net.ipv4.ip_forward', 'kernel.core_pattern', 'kernel.shmmax'),
      fc.constant('1'),
    ),
  ),
  Annotations: maybe(fc.constant({ 'cdi.k8s.io/x': 'nvidia.com/gpu=all' })),
  OomScoreAdj: oneOfValues(0, 500, -500),
  NanoCpus: oneOfValues(0, -1, 2e9, 8e9, 9e9),
  CpuQuota: oneOfValues(0, -1, 400_000, 900_000),
  CpuPeriod: oneOfValues(0, 100_000, 50_000),
  Memory: size,
  MemorySwap: size,
  ShmSize: size,
  PidsLimit: oneOfValues(0, -1, 100, 5000, null),
  PortBindings: maybe(fc.constant({ '22/tcp': [{ HostPort: '22' }] })),
  NewField: maybe(fc.constant({ grant: 'everything' })),
};
/** A few fields at a time: with every field drawn at once, nothing would ever be allowed. */
const hostConfig = fc
  .tuple(fc.record(hostFields), fc.subarray(Object.keys(hostFields), { maxLength: 4 }))
  .map(([values, keys]) => Object.fromEntries(keys.map((k) => [k, values[k as keyof typeof values]])));

const body = fc
  .record(
    {
      host: hostConfig,
      Env: fc.array(env, { maxLength: 2 }),
      Labels: maybe(
        fc.dictionary(
          oneOfValues('ds01.user', 'aime.mlc.USER', 'com.docker.compose.project', 'x'),
          fc.constant('bob'),
        ),
      ),
      EndpointsConfig: maybe(fc.dictionary(oneOfValues('host', 'mynet'), fc.constant({}))),
    },
    { requiredKeys: ['host'] },
  )
  .map(({ host, EndpointsConfig, ...top }) =>
    bodyWith(host, { ...top, ...(EndpointsConfig ? { NetworkingConfig: { EndpointsConfig } } : {}) }),
  );

const context = fc
  .record({
    runtime: oneOfValues<string | null>('runc', 'nvidia', null),
    running: fc.integer({ min: 0, max: 4 }),
  })
  .map(({ runtime, running }) =>
    aliceContext({ daemonDefaultRuntime: runtime, runningContainers: running, realPaths }),
  );

const FORBIDDEN = [
  '/run/docker.sock',
  '/var/run/docker.sock',
  '/run/ds01',
  '/var/run/ds01',
  '/var/lib/docker',
];
const within = (path: string, root: string) => path === root || path.startsWith(`${root}/`);
// biome-ignore lint/suspicious/noExplicitAny: the check reads deep into JSON bodies
type Json = any;
const envValue = (entries: string[], name: string) =>
  entries.filter((e) => e.startsWith(`${name}=`)).map((e) => e.slice(name.length + 1));

/** Each thing the rules forbid that is present in an allowed body. */
function violations(allowed: Record<string, Json>, ctx: CreatePolicyContext): string[] {
  const found: string[] = [];
  const h = allowed['HostConfig'];
  const fail = (what: string) => found.push(what);
  const labels: Record<string, string> = allowed['Labels'] ?? {};
  if (labels['ds01.user'] !== 'alice' || labels['ds01.managed'] !== 'true') fail('owner labels');
  if (labels['aime.mlc.USER'] !== undefined) fail('legacy owner label');
  if (h.CgroupParent !== 'ds01-student-alice.slice') fail(`cgroup parent ${h.CgroupParent}`);
  if (h.Privileged) fail('privileged');
  for (const cap of h.CapAdd ?? []) if (!['SYS_PTRACE', 'CAP_SYS_PTRACE'].includes(cap)) fail(`cap ${cap}`);
  for (const field of ['NetworkMode', 'PidMode', 'IpcMode', 'UTSMode', 'UsernsMode']) {
    const mode: string = h[field] ?? '';
    if (mode === 'host') fail(`${field} host`);
    if (mode.startsWith('container:') && mode !== `container:${own.id}`) fail(`${field} ${mode}`);
  }
  if ('host' in (allowed['NetworkingConfig']?.EndpointsConfig ?? {})) fail('host network endpoint');
  for (const v of h.VolumesFrom ?? []) if (!v.startsWith(own.id)) fail(`volumes-from ${v}`);
  for (const l of h.Links ?? []) if (!l.startsWith(own.id)) fail(`link ${l}`);
  for (const d of h.Devices ?? []) if (d.PathOnHost !== '/dev/fuse') fail(`device ${d.PathOnHost}`);
  if ((h.DeviceCgroupRules ?? []).length > 0) fail('device cgroup rules');
  if ((h.DeviceRequests ?? []).length > 0) fail('device requests left in');
  const env: string[] = allowed['Env'] ?? [];
  const visible = envValue(env, 'NVIDIA_VISIBLE_DEVICES');
  if (visible.length !== 1 || !['void', 'none'].includes(visible[0]!)) fail(`visible devices ${visible}`);
  if (envValue(env, 'CUDA_VISIBLE_DEVICES').some((v) => v.includes('MIG-'))) fail('cuda uuid');
  if (envValue(env, 'NVIDIA_GDS').some((v) => v === 'enabled')) fail('gds');
  const sources = [
    ...(h.Binds ?? []).map((b: string) => b.split(':')),
    ...(h.Mounts ?? []).filter((m: Json) => m.Type === 'bind').map((m: Json) => [m.Source, m.Target]),
  ];
  for (const [source, target] of sources) {
    if (within(posix.normalize(target), '/var/run/nvidia-container-devices')) fail(`device mount ${target}`);
    if (!source.startsWith('/')) continue;
    const path = posix.normalize(source).replace(/(.)\/$/, '$1');
    if (!ctx.allowedBindRoots.some((root) => within(path, root))) fail(`bind ${source}`);
    if (FORBIDDEN.some((f) => within(path, f) || within(f, path)) || path === '/') fail(`bind ${source}`);
    if (path in realPaths) fail(`unresolved symlink ${source}`);
  }
  for (const m of h.Mounts ?? []) if (m.VolumeOptions?.DriverConfig?.Options) fail('volume driver options');
  for (const opt of h.SecurityOpt ?? [])
    if (/unconfined|disable|type:/.test(opt)) fail(`security opt ${opt}`);
  if (h.MaskedPaths || h.ReadonlyPaths) fail('masked paths');
  if (!['', 'runc', ctx.daemonDefaultRuntime].includes(h.Runtime ?? '')) fail(`runtime ${h.Runtime}`);
  if (Object.keys(h.Sysctls ?? {}).some((k) => k.startsWith('kernel.core'))) fail('host sysctl');
  if (Object.keys(h.Annotations ?? {}).length > 0) fail('annotations');
  if ((h.OomScoreAdj ?? 0) < 0) fail('oom score');
  if (h.NewField !== undefined) fail('unknown field');
  const cpus = h.NanoCpus > 0 ? h.NanoCpus / 1e9 : h.CpuQuota / (h.CpuPeriod || 100_000);
  if (!(cpus > 0 && cpus <= 8)) fail(`cpus ${cpus}`);
  if (!(h.Memory > 0 && h.Memory <= 32 * GIB)) fail(`memory ${h.Memory}`);
  if (!(h.MemorySwap > 0 && h.MemorySwap <= 32 * GIB)) fail(`swap ${h.MemorySwap}`);
  if (!(h.ShmSize > 0 && h.ShmSize <= 16 * GIB)) fail(`shm ${h.ShmSize}`);
  if (!(h.PidsLimit > 0 && h.PidsLimit <= 4096)) fail(`pids ${h.PidsLimit}`);
  if (ctx.runningContainers >= 3) fail('over max containers');
  for (const bindings of Object.values(h.PortBindings ?? {}) as Json[]) {
    for (const b of bindings)
      if (Number(b.HostPort) > 0 && Number(b.HostPort) < 1024) fail('privileged port');
  }
  return found;
}

describe('the create policy, whatever it is sent', () => {
  it('allows nothing it forbids', () => {
    let allowedCount = 0;
    fc.assert(
      fc.property(body, context, (b, ctx) => {
        const decision = decideContainerCreate({ body: b, query: {} }, ctx);
        if (decision.kind === 'refused') return;
        allowedCount++;
        expect(violations(decision.body, ctx)).toEqual([]);
        if (decision.gpuRequest) expect(decision.gpuRequest.count).toBeLessThanOrEqual(2);
      }),
      { numRuns: RUNS },
    );
    // The search must reach allowed bodies, or it proves nothing.
    expect(allowedCount).toBeGreaterThan(0);
  });

  it('answers any JSON with a decision, never an exception', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (b) => {
        const decision = decideContainerCreate({ body: b, query: {} }, aliceContext());
        expect(['allowed', 'refused']).toContain(decision.kind);
      }),
      { numRuns: RUNS },
    );
  });
});
