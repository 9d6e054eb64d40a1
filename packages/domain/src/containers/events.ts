import { z } from 'zod';
import { defineEvent } from '../events/defineEvent.ts';
import { ContainerId, Instant, Observation } from '../values.ts';
import { Attribution } from './attribution.ts';
import { ContainerInterface, ContainerType } from './classification.ts';
import { ContainerDescription } from './description.ts';
import { GpuAccess } from './gpuAccess.ts';

/** Stream of one container's life: `container-<64-hex id>`. */
export const containerStream = (containerId: string) => `container-${containerId}`;

/**
 * The Docker event an observed fact came from. Its identity (container, time in nanoseconds, action)
 * also derives the domain event's id, so reading the same Docker event twice appends nothing new.
 */
export const DockerEventRef = z.strictObject({
  id: ContainerId,
  action: z.string().min(1),
  /** Docker's `timeNano`, as a decimal string (it does not fit a JSON number exactly). */
  timeNano: z.string().regex(/^\d+$/, 'must be Docker timeNano digits'),
});
export type DockerEventRef = z.infer<typeof DockerEventRef>;

/**
 * When DS01 read a container's state from Docker for a reconciled fact: from just before its inspect was
 * sent until the answer came back. dockerd changes a container's state and publishes the Docker event
 * for it under the container's lock, which inspect takes too, so a Docker event of that container older
 * than `from` is part of what was read and one newer than `until` is not; one in between may be either
 * (see decideDockerEvent). Kept on the log so that the rule holds across a crash of the watcher.
 */
export const SnapshotWindow = z.strictObject({ from: Instant, until: Instant });
export type SnapshotWindow = z.infer<typeof SnapshotWindow>;

const Ref = {
  containerId: ContainerId,
  /** Docker's name, without the leading slash. */
  name: z.string(),
  /** observed: from the Docker event stream; reconciled: found by comparing `docker ps -a` afterwards. */
  observation: Observation,
  /** The Docker event (observed); null when reconciled. */
  dockerEvent: DockerEventRef.nullable(),
  /** Reconciled facts: when the state they come from was read (absent on facts recorded before 2026-12). */
  snapshot: SnapshotWindow.optional(),
  /**
   * Reconciled facts: Docker's own time of the fact in nanoseconds (State.StartedAt or FinishedAt as
   * read, or the start of the read when Docker keeps none), so that facts of one millisecond stay in
   * order. Observed facts have it in `dockerEvent.timeNano`.
   */
  dockerTimeNano: z.string().regex(/^\d+$/, 'must be nanosecond digits').optional(),
};

/** The fields every container event starts with. */
export const ContainerRef = z.strictObject(Ref);
export type ContainerRef = z.infer<typeof ContainerRef>;

/**
 * Docker created the container. Only what Docker's own `create` event says (name, image, labels), so it
 * is recorded the moment the event arrives: reading the rest needs an inspect, which dockerd answers only
 * once it has finished starting the container (it holds the container's lock meanwhile, seconds on a
 * loaded host). DS01's reading of it (owner, GPUs, limits) follows as ContainerDescribed.
 */
export const ContainerCreated = defineEvent({
  type: 'ContainerCreated',
  schema: z.strictObject({
    ...Ref,
    /** The image as the user named it. */
    image: z.string(),
    labels: z.record(z.string(), z.string()),
  }),
});

/**
 * inspect: from the container's inspect data (complete). event-attributes: the container was gone before
 * DS01 could inspect it, so only its name, image and labels were known (GPU access `unknown`).
 */
export const DescriptionSource = z.enum(['inspect', 'event-attributes']);
export type DescriptionSource = z.infer<typeof DescriptionSource>;

/**
 * DS01's reading of a created container: who owns it and the rule that said so, what made it, which GPUs
 * it can reach, its limits. Recorded once per container, after its ContainerCreated.
 */
export const ContainerDescribed = defineEvent({
  type: 'ContainerDescribed',
  schema: z.strictObject({ ...Ref, describedFrom: DescriptionSource, ...ContainerDescription.shape }),
});

export const ContainerStarted = defineEvent({
  type: 'ContainerStarted',
  schema: z.strictObject({
    ...Ref,
    /** Docker's State.StartedAt when reconciled from inspect; the event time when observed. */
    startedAt: Instant,
  }),
});

export const ContainerStopped = defineEvent({
  type: 'ContainerStopped',
  schema: z.strictObject({
    ...Ref,
    /** null: unknown (reconciled from a container that is gone). */
    exitCode: z.number().int().nullable(),
    /** A ContainerOutOfMemory since it started (observed), or Docker's State.OOMKilled (reconciled). */
    oomKilled: z.boolean(),
    finishedAt: Instant,
  }),
});

/**
 * The kernel's OOM killer killed a process of the container (Docker's `oom`). The container may go on
 * running (a child was killed) or die next; its ContainerStopped then says oomKilled, as Docker's
 * State.OOMKilled does.
 */
export const ContainerOutOfMemory = defineEvent({
  type: 'ContainerOutOfMemory',
  schema: z.strictObject({ ...Ref }),
});

/** `docker restart` or a restart policy brought it back (a Stopped and a Started are recorded too). */
export const ContainerRestarted = defineEvent({
  type: 'ContainerRestarted',
  schema: z.strictObject({ ...Ref }),
});

export const ContainerPaused = defineEvent({ type: 'ContainerPaused', schema: z.strictObject({ ...Ref }) });

export const ContainerUnpaused = defineEvent({
  type: 'ContainerUnpaused',
  schema: z.strictObject({ ...Ref }),
});

/** `name` is the new name. */
export const ContainerRenamed = defineEvent({
  type: 'ContainerRenamed',
  schema: z.strictObject({ ...Ref, oldName: z.string() }),
});

export const ContainerHealth = z.enum(['starting', 'healthy', 'unhealthy']);

export const ContainerHealthChanged = defineEvent({
  type: 'ContainerHealthChanged',
  schema: z.strictObject({ ...Ref, health: ContainerHealth }),
});

export const ContainerRemoved = defineEvent({ type: 'ContainerRemoved', schema: z.strictObject({ ...Ref }) });

/** The container showed no GPU activity and low CPU for its idle timeout's detection window. */
export const ContainerIdle = defineEvent({
  type: 'ContainerIdle',
  schema: z.strictObject({
    containerId: ContainerId,
    idleSince: Instant,
  }),
});

/**
 * The container that was recorded idle showed activity again (GPU, CPU or network over its
 * thresholds) at `activeAt`: its idle retirement, if any, is cancelled.
 */
export const ContainerActiveAgain = defineEvent({
  type: 'ContainerActiveAgain',
  schema: z.strictObject({
    containerId: ContainerId,
    idleSince: Instant,
    activeAt: Instant,
  }),
});

/**
 * A container that did not come through DS01 (neither `ds01.managed` nor its legacy label): raw docker,
 * compose, dev containers. Recorded with who it is attributed to and what GPUs it can reach, so that
 * enforcement can act on it. Infrastructure containers are never reported.
 */
export const UnmanagedContainerDetected = defineEvent({
  type: 'UnmanagedContainerDetected',
  schema: z.strictObject({
    ...Ref,
    owner: Attribution,
    interface: ContainerInterface,
    type: ContainerType,
    image: z.string(),
    gpu: GpuAccess,
  }),
});

export const containerEvents = [
  ContainerCreated,
  ContainerDescribed,
  ContainerStarted,
  ContainerOutOfMemory,
  ContainerStopped,
  ContainerRestarted,
  ContainerPaused,
  ContainerUnpaused,
  ContainerRenamed,
  ContainerHealthChanged,
  ContainerRemoved,
  ContainerIdle,
  ContainerActiveAgain,
  UnmanagedContainerDetected,
] as const;
