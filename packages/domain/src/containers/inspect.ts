import { z } from 'zod';
import { ContainerId, Instant } from '../values.ts';

/**
 * The part of `docker inspect <container>` (Engine API GET /containers/{id}/json) that DS01 reads. The
 * host layer parses the daemon's answer with it, so a garbled answer fails here, naming the field, rather
 * than deep inside attribution. Docker writes `null` for empty lists and maps: read as empty.
 */

const list = <T extends z.ZodType>(item: T) =>
  z
    .array(item)
    .nullish()
    .transform((v) => v ?? []);
const map = z
  .record(z.string(), z.string())
  .nullish()
  .transform((v) => v ?? {});

/**
 * A time as Docker writes it (RFC 3339, nanoseconds), in the years the log's ISO instants can hold:
 * `new Date` alone reads "54201" as the year 54201, which no instant on the log can name.
 */
const dockerTime = z
  .string()
  .refine(
    (value) => Instant.safeParse(value).success && Instant.safeParse(new Date(value).toISOString()).success,
    'is not a time in the years 0000-9999 (RFC 3339, as Docker writes it)',
  );

/** One of Docker's int64 fields (limits, counts): a fraction there is not Docker's answer. */
const dockerInt = z.number().int().nullish();

export const DeviceRequest = z.looseObject({
  Driver: z.string().nullish(),
  Count: z.number().int().nullish(),
  DeviceIDs: list(z.string()),
  Capabilities: list(list(z.string())),
});

export const DeviceMapping = z.looseObject({
  PathOnHost: z.string(),
  PathInContainer: z.string().nullish(),
});

export const ContainerInspect = z.looseObject({
  Id: ContainerId,
  /** With Docker's leading slash: "/my-container". */
  Name: z.string(),
  Created: dockerTime,
  /** The image id (sha256:...). */
  Image: z.string(),
  State: z.looseObject({
    Status: z.string(),
    Running: z.boolean(),
    Paused: z.boolean(),
    Restarting: z.boolean(),
    OOMKilled: z.boolean(),
    ExitCode: z.number().int(),
    /** "0001-01-01T00:00:00Z" when never started / never finished. */
    StartedAt: dockerTime,
    FinishedAt: dockerTime,
    Health: z.looseObject({ Status: z.string() }).nullish(),
  }),
  Config: z.looseObject({
    /** The image as the user named it ("busybox", "ds01-test/busybox:latest"). */
    Image: z.string(),
    User: z.string().nullish(),
    Env: list(z.string()),
    Labels: map,
  }),
  HostConfig: z.looseObject({
    CgroupParent: z.string().nullish(),
    Binds: list(z.string()),
    Runtime: z.string().nullish(),
    DeviceRequests: list(DeviceRequest),
    Devices: list(DeviceMapping),
    Memory: dockerInt,
    MemorySwap: dockerInt,
    NanoCpus: dockerInt,
    CpuQuota: dockerInt,
    CpuPeriod: dockerInt,
    CpusetCpus: z.string().nullish(),
    PidsLimit: dockerInt,
    ShmSize: dockerInt,
  }),
  Mounts: list(
    z.looseObject({
      Type: z.string(),
      Source: z.string().nullish(),
      Destination: z.string(),
    }),
  ),
});
export type ContainerInspect = z.output<typeof ContainerInspect>;
/** What a daemon's answer looks like before parsing (for fixtures and tests). */
export type ContainerInspectInput = z.input<typeof ContainerInspect>;

/** Docker's zero time: the container never started, or has not finished. */
export function dockerTimeOrNull(value: string): string | null {
  return value.startsWith('0001-01-01') ? null : value;
}

/** The container's name without Docker's leading slash. */
export function containerName(inspect: Pick<ContainerInspect, 'Name'>): string {
  return inspect.Name.replace(/^\//, '');
}
