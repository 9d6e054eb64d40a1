import { z } from 'zod';

/**
 * The parts of a Docker Engine API `POST /containers/create` body the create policy reads
 * (ContainerConfig, HostConfig, NetworkingConfig of API 1.41–1.47), read loosely: every field may be
 * absent or null (the docker CLI sends null and zero values for what it was not given), and fields
 * not named here are kept as the caller wrote them. A field of the wrong type is refused, not guessed.
 */

const strings = z.array(z.string()).nullish();
const int = z.number().int().nullish();
const stringMap = z.record(z.string(), z.string()).nullish();

export const CreateDeviceRequestSchema = z.looseObject({
  Driver: z.string().nullish(),
  Count: int,
  DeviceIDs: strings,
  Capabilities: z.array(z.array(z.string())).nullish(),
  Options: stringMap,
});
export type CreateDeviceRequest = z.infer<typeof CreateDeviceRequestSchema>;

export const CreateDeviceMappingSchema = z.looseObject({
  PathOnHost: z.string().nullish(),
  PathInContainer: z.string().nullish(),
  CgroupPermissions: z.string().nullish(),
});

export const CreateMountSchema = z.looseObject({
  Type: z.string().nullish(),
  Source: z.string().nullish(),
  Target: z.string().nullish(),
  VolumeOptions: z
    .looseObject({
      DriverConfig: z.looseObject({ Name: z.string().nullish(), Options: stringMap }).nullish(),
    })
    .nullish(),
});
export type CreateMount = z.infer<typeof CreateMountSchema>;

const PortBindingsSchema = z
  .record(
    z.string(),
    z.array(z.looseObject({ HostIp: z.string().nullish(), HostPort: z.string().nullish() })).nullish(),
  )
  .nullish();

export const HostConfigSchema = z.looseObject({
  Binds: strings,
  Mounts: z.array(CreateMountSchema).nullish(),
  Tmpfs: stringMap,
  VolumesFrom: strings,
  VolumeDriver: z.string().nullish(),
  Links: strings,
  NetworkMode: z.string().nullish(),
  PidMode: z.string().nullish(),
  IpcMode: z.string().nullish(),
  UTSMode: z.string().nullish(),
  UsernsMode: z.string().nullish(),
  CgroupnsMode: z.string().nullish(),
  Cgroup: z.string().nullish(),
  CgroupParent: z.string().nullish(),
  Privileged: z.boolean().nullish(),
  CapAdd: strings,
  CapDrop: strings,
  SecurityOpt: strings,
  MaskedPaths: strings,
  ReadonlyPaths: strings,
  Runtime: z.string().nullish(),
  Devices: z.array(CreateDeviceMappingSchema).nullish(),
  DeviceCgroupRules: strings,
  DeviceRequests: z.array(CreateDeviceRequestSchema).nullish(),
  Sysctls: stringMap,
  Annotations: stringMap,
  OomScoreAdj: int,
  PortBindings: PortBindingsSchema,
  NanoCpus: int,
  CpuQuota: int,
  CpuPeriod: int,
  CpuRealtimePeriod: int,
  CpuRealtimeRuntime: int,
  Memory: int,
  MemorySwap: int,
  ShmSize: int,
  PidsLimit: int,
});
export type HostConfig = z.infer<typeof HostConfigSchema>;

export const CreateBodySchema = z.looseObject({
  Image: z.string().nullish(),
  Env: strings,
  Labels: stringMap,
  Volumes: z.record(z.string(), z.unknown()).nullish(),
  HostConfig: HostConfigSchema.nullish(),
  NetworkingConfig: z.looseObject({ EndpointsConfig: z.record(z.string(), z.unknown()).nullish() }).nullish(),
});
export type CreateBody = z.infer<typeof CreateBodySchema>;

/**
 * Every HostConfig field of Engine API 1.47. A field outside this list is one a newer API added:
 * the policy cannot know what it grants, so it is refused unless it holds its zero value.
 */
export const KNOWN_HOST_CONFIG_FIELDS: ReadonlySet<string> = new Set([
  'Binds',
  'ContainerIDFile',
  'LogConfig',
  'NetworkMode',
  'PortBindings',
  'RestartPolicy',
  'AutoRemove',
  'VolumeDriver',
  'VolumesFrom',
  'ConsoleSize',
  'Annotations',
  'CapAdd',
  'CapDrop',
  'CgroupnsMode',
  'Dns',
  'DnsOptions',
  'DnsSearch',
  'ExtraHosts',
  'GroupAdd',
  'IpcMode',
  'Cgroup',
  'Links',
  'OomScoreAdj',
  'PidMode',
  'Privileged',
  'PublishAllPorts',
  'ReadonlyRootfs',
  'SecurityOpt',
  'StorageOpt',
  'Tmpfs',
  'UTSMode',
  'UsernsMode',
  'ShmSize',
  'Sysctls',
  'Runtime',
  'Isolation',
  'CpuShares',
  'Memory',
  'NanoCpus',
  'CgroupParent',
  'BlkioWeight',
  'BlkioWeightDevice',
  'BlkioDeviceReadBps',
  'BlkioDeviceWriteBps',
  'BlkioDeviceReadIOps',
  'BlkioDeviceWriteIOps',
  'CpuPeriod',
  'CpuQuota',
  'CpuRealtimePeriod',
  'CpuRealtimeRuntime',
  'CpusetCpus',
  'CpusetMems',
  'Devices',
  'DeviceCgroupRules',
  'DeviceRequests',
  'KernelMemory',
  'KernelMemoryTCP',
  'MemoryReservation',
  'MemorySwap',
  'MemorySwappiness',
  'OomKillDisable',
  'Init',
  'PidsLimit',
  'Ulimits',
  'CpuCount',
  'CpuPercent',
  'IOMaximumIOps',
  'IOMaximumBandwidth',
  'Mounts',
  'MaskedPaths',
  'ReadonlyPaths',
]);

/** null, false, 0, "", [] and {}: what the docker CLI sends for a field it was not given. */
export function isZeroValue(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.values(value).every(isZeroValue);
  return false;
}
