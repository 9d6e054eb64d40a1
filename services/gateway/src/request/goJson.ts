import { BadRequestError } from './requestTarget.ts';

/**
 * JSON bodies read as dockerd's Go decoder reads them. encoding/json matches an object key to a
 * struct field *case-insensitively* (with Unicode simple folding: `ſ` is `s`, the Kelvin sign is
 * `k`), the last of several keys for one field wins, unknown keys are ignored, and a value of the
 * wrong type is an error. A check that looked for `HostConfig.Privileged` would miss
 * `{"hostconfig": {"privileged": true}}`, which dockerd obeys. So every body the gateway decides on
 * is first rewritten into the canonical field names of its Go struct, unknown keys dropped and
 * types checked (400 otherwise); that canonical body is what the policy sees and what is forwarded.
 *
 * Map keys (labels, options, port specs) are case-sensitive in Go too and are left as written.
 */

/** The shape of a Go type: scalar, list, string-keyed map, struct (field → shape), or anything. */
export type Shape =
  | 'string'
  | 'bool'
  | 'int'
  | 'number'
  | 'any'
  /** strslice.StrSlice: one string or a list of them. */
  | 'strings'
  | { list: Shape }
  | { map: Shape }
  | { struct: Readonly<Record<string, Shape>> };

const list = (of: Shape): Shape => ({ list: of });
const map = (of: Shape): Shape => ({ map: of });
const struct = (fields: Record<string, Shape>): Shape => ({ struct: fields });

/** Go's simple case folding for one key (per code point, as bytes.EqualFold compares). */
export function foldKey(key: string): string {
  let folded = '';
  for (const char of key) {
    const upper = char.toUpperCase();
    folded += upper.length === char.length ? upper.toLowerCase() : char.toLowerCase();
  }
  return folded;
}

/** `value` in the canonical form of `shape`; BadRequestError (400) naming the field when Go would fail. */
export function canonicalize(value: unknown, shape: Shape, at = 'body'): unknown {
  if (value === null) return null; // Go: null leaves the field at its zero value
  if (shape === 'any') return value;
  if (shape === 'string') return typed(value, 'string', at);
  if (shape === 'bool') return typed(value, 'boolean', at);
  if (shape === 'number') return typed(value, 'number', at);
  if (shape === 'int') {
    if (!Number.isInteger(typed(value, 'number', at))) {
      throw new BadRequestError(`${at}: ${JSON.stringify(value)} is not a whole number`);
    }
    return value;
  }
  if (shape === 'strings') {
    if (typeof value === 'string') return value;
    return canonicalize(value, list('string'), at);
  }
  if ('list' in shape) {
    if (!Array.isArray(value)) throw new BadRequestError(`${at}: expected a list, got ${kind(value)}`);
    return value.map((item, i) => canonicalize(item, shape.list, `${at}[${i}]`));
  }
  const object = asObject(value, at);
  if ('map' in shape) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(object))
      out[key] = canonicalize(item, shape.map, `${at}.${key}`);
    return out;
  }
  const fields = fieldIndex(shape.struct);
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(object)) {
    const field = fields.exact.get(key) ?? fields.folded.get(foldKey(key));
    if (field === undefined) continue; // Go ignores unknown fields; what it ignores is not forwarded
    out[field] = canonicalize(item, shape.struct[field]!, `${at}.${field}`);
  }
  return out;
}

/** Parses a JSON body (400 when it is not JSON) and canonicalises it. */
export function parseGoJson(text: string, shape: Shape, what: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new BadRequestError(`${what}: body is not valid JSON (${(error as Error).message})`);
  }
  return canonicalize(parsed, shape, what);
}

const indexes = new WeakMap<object, { exact: Map<string, string>; folded: Map<string, string> }>();

function fieldIndex(fields: Readonly<Record<string, Shape>>) {
  let index = indexes.get(fields);
  if (!index) {
    const names = Object.keys(fields);
    index = {
      exact: new Map(names.map((n) => [n, n])),
      folded: new Map(names.map((n) => [foldKey(n), n])),
    };
    indexes.set(fields, index);
  }
  return index;
}

function typed(value: unknown, type: 'string' | 'boolean' | 'number', at: string): unknown {
  if (typeof value !== type) throw new BadRequestError(`${at}: expected a ${type}, got ${kind(value)}`);
  return value;
}

function asObject(value: unknown, at: string): Record<string, unknown> {
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new BadRequestError(`${at}: expected an object, got ${kind(value)}`);
  }
  return value as Record<string, unknown>;
}

function kind(value: unknown): string {
  return Array.isArray(value) ? 'a list' : value === null ? 'null' : `a ${typeof value}`;
}

// ---- Docker Engine API bodies (moby api/types), as of API 1.41–1.47 ----

const restartPolicy = struct({ Name: 'string', MaximumRetryCount: 'int' });

const mount = struct({
  Type: 'string',
  Source: 'string',
  Target: 'string',
  ReadOnly: 'bool',
  Consistency: 'string',
  BindOptions: struct({ Propagation: 'string', NonRecursive: 'bool', CreateMountpoint: 'bool' }),
  VolumeOptions: struct({
    NoCopy: 'bool',
    Labels: map('string'),
    Subpath: 'string',
    DriverConfig: struct({ Name: 'string', Options: map('string') }),
  }),
  TmpfsOptions: struct({ SizeBytes: 'int', Mode: 'int' }),
});

/** container.Resources: inlined in HostConfig and in the update body. */
export const resourcesFields: Record<string, Shape> = {
  CpuShares: 'int',
  Memory: 'int',
  NanoCpus: 'int',
  CgroupParent: 'string',
  BlkioWeight: 'int',
  BlkioWeightDevice: 'any',
  BlkioDeviceReadBps: 'any',
  BlkioDeviceWriteBps: 'any',
  BlkioDeviceReadIOps: 'any',
  BlkioDeviceWriteIOps: 'any',
  CpuPeriod: 'int',
  CpuQuota: 'int',
  CpuRealtimePeriod: 'int',
  CpuRealtimeRuntime: 'int',
  CpusetCpus: 'string',
  CpusetMems: 'string',
  Devices: list(struct({ PathOnHost: 'string', PathInContainer: 'string', CgroupPermissions: 'string' })),
  DeviceCgroupRules: list('string'),
  DeviceRequests: list(
    struct({
      Driver: 'string',
      Count: 'int',
      DeviceIDs: list('string'),
      Capabilities: list(list('string')),
      Options: map('string'),
    }),
  ),
  KernelMemory: 'int',
  KernelMemoryTCP: 'int',
  MemoryReservation: 'int',
  MemorySwap: 'int',
  MemorySwappiness: 'int',
  OomKillDisable: 'bool',
  PidsLimit: 'int',
  Ulimits: list(struct({ Name: 'string', Hard: 'int', Soft: 'int' })),
  CpuCount: 'int',
  CpuPercent: 'int',
  IOMaximumIOps: 'int',
  IOMaximumBandwidth: 'int',
};

export const hostConfigShape = struct({
  Binds: list('string'),
  ContainerIDFile: 'string',
  LogConfig: struct({ Type: 'string', Config: map('string') }),
  NetworkMode: 'string',
  PortBindings: map('any'),
  RestartPolicy: restartPolicy,
  AutoRemove: 'bool',
  VolumeDriver: 'string',
  VolumesFrom: list('string'),
  ConsoleSize: list('int'),
  Annotations: map('string'),
  CapAdd: 'strings',
  CapDrop: 'strings',
  CgroupnsMode: 'string',
  Dns: list('string'),
  DnsOptions: list('string'),
  DnsSearch: list('string'),
  ExtraHosts: list('string'),
  GroupAdd: list('string'),
  IpcMode: 'string',
  Cgroup: 'string',
  Links: list('string'),
  OomScoreAdj: 'int',
  PidMode: 'string',
  Privileged: 'bool',
  PublishAllPorts: 'bool',
  ReadonlyRootfs: 'bool',
  SecurityOpt: list('string'),
  StorageOpt: map('string'),
  Tmpfs: map('string'),
  UTSMode: 'string',
  UsernsMode: 'string',
  ShmSize: 'int',
  Sysctls: map('string'),
  Runtime: 'string',
  Isolation: 'string',
  ...resourcesFields,
  Mounts: list(mount),
  MaskedPaths: list('string'),
  ReadonlyPaths: list('string'),
  Init: 'bool',
});

const endpointSettings = struct({
  IPAMConfig: 'any',
  Links: list('string'),
  Aliases: list('string'),
  MacAddress: 'string',
  DriverOpts: map('string'),
  NetworkID: 'string',
  EndpointID: 'string',
  Gateway: 'string',
  IPAddress: 'string',
  IPPrefixLen: 'int',
  IPv6Gateway: 'string',
  GlobalIPv6Address: 'string',
  GlobalIPv6PrefixLen: 'int',
  DNSNames: list('string'),
});

/** container.Config. */
const containerConfigFields: Record<string, Shape> = {
  Hostname: 'string',
  Domainname: 'string',
  User: 'string',
  AttachStdin: 'bool',
  AttachStdout: 'bool',
  AttachStderr: 'bool',
  ExposedPorts: map('any'),
  Tty: 'bool',
  OpenStdin: 'bool',
  StdinOnce: 'bool',
  Env: list('string'),
  Cmd: 'strings',
  Healthcheck: struct({
    Test: list('string'),
    Interval: 'int',
    Timeout: 'int',
    StartPeriod: 'int',
    StartInterval: 'int',
    Retries: 'int',
  }),
  ArgsEscaped: 'bool',
  Image: 'string',
  Volumes: map('any'),
  WorkingDir: 'string',
  Entrypoint: 'strings',
  NetworkDisabled: 'bool',
  MacAddress: 'string',
  OnBuild: list('string'),
  Labels: map('string'),
  StopSignal: 'string',
  StopTimeout: 'int',
  Shell: list('string'),
};

export const containerConfigShape = struct(containerConfigFields);

/** POST /containers/create: ContainerConfigWrapper (Config inlined, HostConfig, NetworkingConfig). */
export const containerCreateShape = struct({
  ...containerConfigFields,
  HostConfig: hostConfigShape,
  NetworkingConfig: struct({ EndpointsConfig: map(endpointSettings) }),
});

export const execCreateShape = struct({
  User: 'string',
  Privileged: 'bool',
  Tty: 'bool',
  ConsoleSize: list('int'),
  AttachStdin: 'bool',
  AttachStderr: 'bool',
  AttachStdout: 'bool',
  Detach: 'bool',
  DetachKeys: 'string',
  Env: list('string'),
  WorkingDir: 'string',
  Cmd: 'strings',
});

export const execStartShape = struct({ Detach: 'bool', Tty: 'bool', ConsoleSize: list('int') });

export const containerUpdateShape = struct({ ...resourcesFields, RestartPolicy: restartPolicy });

export const volumeCreateShape = struct({
  Name: 'string',
  Driver: 'string',
  DriverOpts: map('string'),
  Labels: map('string'),
});

export const networkCreateShape = struct({
  Name: 'string',
  CheckDuplicate: 'bool',
  Driver: 'string',
  Scope: 'string',
  EnableIPv6: 'bool',
  IPAM: 'any',
  Internal: 'bool',
  Attachable: 'bool',
  Ingress: 'bool',
  ConfigOnly: 'bool',
  ConfigFrom: 'any',
  Options: map('string'),
  Labels: map('string'),
});

export const networkConnectShape = struct({
  Container: 'string',
  EndpointConfig: endpointSettings,
  Force: 'bool',
});
