import { z } from 'zod';
import { Instant } from '../values.ts';
import { Attribution, type AttributionFacts, attributeOwner } from './attribution.ts';
import {
  ContainerInterface,
  ContainerType,
  detectContainerType,
  detectInterface,
  isInfrastructure,
  isManaged,
} from './classification.ts';
import { GpuAccess, gpuAccessOf } from './gpuAccess.ts';
import { ContainerInspect } from './inspect.ts';
import { readDs01Labels } from './labels.ts';
import { ResourceLimits, resourceLimitsOf } from './limits.ts';

/** Everything DS01 records about a container when it appears: who, what made it, what it may use. */
export const ContainerDescription = z.strictObject({
  /** The image as the user named it. */
  image: z.string(),
  /** The image id (sha256:...); null when the container could not be inspected. */
  imageId: z.string().nullable(),
  /** Docker's creation time; null when the container could not be inspected. */
  createdAt: Instant.nullable(),
  owner: Attribution,
  interface: ContainerInterface,
  type: ContainerType,
  /** Came through DS01 or ds01-infra (`ds01.managed=true` or its legacy label). */
  managed: z.boolean(),
  /** The monitoring stack or a protected container: never a user workload. */
  infrastructure: z.boolean(),
  gpu: GpuAccess,
  cgroupParent: z.string().nullable(),
  limits: ResourceLimits.nullable(),
  labels: z.record(z.string(), z.string()),
});
export type ContainerDescription = z.infer<typeof ContainerDescription>;

export interface DescribeFacts extends AttributionFacts {
  /** The daemon's default runtime (`docker info`): decides whether NVIDIA_VISIBLE_DEVICES grants GPUs. */
  defaultRuntime: string;
}

/** Docker writes nanosecond times; the log keeps ISO-8601 with milliseconds. */
export function isoInstant(dockerTime: string): string {
  return new Date(dockerTime).toISOString();
}

/**
 * A Docker time (RFC 3339 with up to nanoseconds, as in State.StartedAt) as nanoseconds since the epoch,
 * in the decimal digits of Docker's event `timeNano`: two facts of one millisecond stay in order.
 */
export function timeNanoOfDockerTime(dockerTime: string): string {
  const match = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/i.exec(dockerTime);
  if (!match) return timeNanoOfInstant(isoInstant(dockerTime));
  const seconds = BigInt(Date.parse(`${match[1]}${match[3]}`));
  const fraction = BigInt((match[2] ?? '').slice(0, 9).padEnd(9, '0'));
  return `${seconds * 1_000_000n + fraction}`;
}

/** An ISO instant (milliseconds) as nanoseconds since the epoch. */
export function timeNanoOfInstant(instant: string): string {
  return `${BigInt(Date.parse(instant)) * 1_000_000n}`;
}

export function describeContainer(inspect: ContainerInspect, facts: DescribeFacts): ContainerDescription {
  const ds01 = readDs01Labels(inspect.Config.Labels);
  return {
    image: inspect.Config.Image,
    imageId: inspect.Image,
    createdAt: isoInstant(inspect.Created),
    owner: attributeOwner(inspect, facts),
    interface: detectInterface(inspect, ds01),
    type: detectContainerType(inspect, ds01),
    managed: isManaged(ds01),
    infrastructure: isInfrastructure(inspect, ds01),
    gpu: gpuAccessOf(inspect, facts.defaultRuntime),
    cgroupParent: inspect.HostConfig.CgroupParent || null,
    limits: resourceLimitsOf(inspect),
    labels: inspect.Config.Labels,
  };
}

/** Attributes of a Docker container event that are not labels. */
const EVENT_ATTRIBUTES = new Set([
  'image',
  'name',
  'exitCode',
  'execDuration',
  'signal',
  'oldName',
  'execID',
  'container',
]);

/** A container event's Actor.Attributes are its labels plus Docker's own keys: the labels alone. */
export function labelsOfEventAttributes(
  attributes: Readonly<Record<string, string>>,
): Record<string, string> {
  return Object.fromEntries(Object.entries(attributes).filter(([key]) => !EVENT_ATTRIBUTES.has(key)));
}

/**
 * What can be said about a container known only from a Docker event (it was removed before DS01 could
 * inspect it): the event carries its name, image and labels, so owner, interface and type are still
 * read; GPU access is `unknown`, limits and cgroup parent absent.
 */
export function describeFromEventAttributes(
  containerId: string,
  attributes: Readonly<Record<string, string>>,
  facts: DescribeFacts,
): ContainerDescription {
  const labels = labelsOfEventAttributes(attributes);
  const inspect = ContainerInspect.parse({
    Id: containerId,
    Name: `/${attributes['name'] ?? ''}`,
    Created: '0001-01-01T00:00:00Z',
    Image: '',
    State: {
      Status: 'unknown',
      Running: false,
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      ExitCode: 0,
      StartedAt: '0001-01-01T00:00:00Z',
      FinishedAt: '0001-01-01T00:00:00Z',
    },
    Config: { Image: attributes['image'] ?? '', Labels: labels },
    HostConfig: {},
    Mounts: [],
  });
  return {
    ...describeContainer(inspect, facts),
    imageId: null,
    createdAt: null,
    gpu: { access: 'unknown' },
    cgroupParent: null,
    limits: null,
  };
}
