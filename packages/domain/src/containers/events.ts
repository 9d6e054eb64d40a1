import { z } from 'zod';
import { defineEvent } from '../events/defineEvent.ts';
import { ContainerId, Instant, Observation, UserName } from '../values.ts';

/** Stream of one container's life: `container-<64-hex id>`. */
export const containerStream = (containerId: string) => `container-${containerId}`;

const Ref = {
  containerId: ContainerId,
  /** Docker's name, without the leading slash. */
  name: z.string().min(1),
  observation: Observation,
};

export const ContainerCreated = defineEvent({
  type: 'ContainerCreated',
  schema: z.strictObject({
    ...Ref,
    image: z.string(),
    owner: UserName.nullable(),
    labels: z.record(z.string(), z.string()),
  }),
});

export const ContainerStarted = defineEvent({ type: 'ContainerStarted', schema: z.strictObject({ ...Ref }) });

export const ContainerStopped = defineEvent({
  type: 'ContainerStopped',
  schema: z.strictObject({
    ...Ref,
    exitCode: z.number().int().nullable(),
    oomKilled: z.boolean(),
  }),
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

/** A container that did not come through DS01 (raw docker, compose, dev containers). */
export const UnmanagedContainerDetected = defineEvent({
  type: 'UnmanagedContainerDetected',
  schema: z.strictObject({
    ...Ref,
    owner: UserName.nullable(),
  }),
});

export const containerEvents = [
  ContainerCreated,
  ContainerStarted,
  ContainerStopped,
  ContainerRemoved,
  ContainerIdle,
  UnmanagedContainerDetected,
] as const;
