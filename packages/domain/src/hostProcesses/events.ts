import { z } from 'zod';
import { defineEvent } from '../events/defineEvent.ts';
import { GpuSlotId, Instant, UserName } from '../values.ts';

/**
 * GPU processes that run on the host itself, outside any container: detected once per process (a
 * pid with its start time: pids are reused), warned, stopped, ended. One stream per host.
 */
export const hostGpuProcessStream = (host: string) => `host-gpu-processes-${host}`;

/** What the bare-metal policy says for a user's host GPU processes. */
export const BareMetalPolicy = z.enum(['allow', 'warn', 'stop']);
export type BareMetalPolicy = z.infer<typeof BareMetalPolicy>;

/** Why that policy: the user's own setting, a group's, the default, an exemption or a grant. */
export const BareMetalPolicySource = z.enum(['user', 'group', 'default', 'exempt-user', 'grant']);
export type BareMetalPolicySource = z.infer<typeof BareMetalPolicySource>;

const ProcessRef = {
  pid: z.number().int().positive(),
  /** "<pid>:<start time in clock ticks since boot>": one process, even when its pid is reused later. */
  processKey: z.string().min(1),
};

const OnGpu = {
  gpuUuid: z.string().min(1),
  /** The slot ("2", "1.0"); null on a MIG GPU when nvidia-smi did not say which slice. */
  slot: GpuSlotId.nullable(),
  usedMemoryMiB: z.number().nonnegative().nullable(),
};

/** A process on the host itself (not in a container) using a GPU, with the user it runs as. */
export const HostGpuProcessDetected = defineEvent({
  type: 'HostGpuProcessDetected',
  schema: z.strictObject({
    ...ProcessRef,
    uid: z.number().int().nonnegative().nullable(),
    user: UserName.nullable(),
    /** Its command line (arguments joined by spaces), or nvidia-smi's process name when unreadable. */
    command: z.string(),
    ...OnGpu,
    policy: BareMetalPolicy,
    policySource: BareMetalPolicySource,
    at: Instant,
  }),
});

/**
 * A GPU process nothing explains: not in a container, and its user unknown (its /proc entry cannot be
 * read — another pid namespace, gone between nvidia-smi and the read — or its uid has no account).
 */
export const UnattributedGpuProcess = defineEvent({
  type: 'UnattributedGpuProcess',
  schema: z.strictObject({
    ...ProcessRef,
    uid: z.number().int().nonnegative().nullable(),
    command: z.string(),
    ...OnGpu,
    reason: z.string().min(1),
    at: Instant,
  }),
});

/** The user is told that host GPU use is not allowed; `stopAt`: when it will be stopped (policy stop). */
export const HostGpuProcessWarned = defineEvent({
  type: 'HostGpuProcessWarned',
  schema: z.strictObject({
    ...ProcessRef,
    user: UserName,
    policy: z.enum(['warn', 'stop']),
    stopAt: Instant.nullable(),
    at: Instant,
  }),
});

/** The decision to send a signal (SIGTERM at stopAt, SIGKILL a grace after it): the service executes it once. */
export const HostGpuProcessStopDecided = defineEvent({
  type: 'HostGpuProcessStopDecided',
  schema: z.strictObject({
    ...ProcessRef,
    user: UserName,
    signal: z.enum(['SIGTERM', 'SIGKILL']),
    at: Instant,
  }),
});

/** What sending the decided signal did: sent, the process was already gone, or it failed (why). */
export const HostGpuProcessSignalled = defineEvent({
  type: 'HostGpuProcessSignalled',
  schema: z.strictObject({
    ...ProcessRef,
    signal: z.enum(['SIGTERM', 'SIGKILL']),
    outcome: z.enum(['sent', 'gone', 'failed']),
    error: z.string().nullable(),
    at: Instant,
  }),
});

/** A detected (or unattributed) process no longer uses a GPU. */
export const HostGpuProcessEnded = defineEvent({
  type: 'HostGpuProcessEnded',
  schema: z.strictObject({
    ...ProcessRef,
    user: UserName.nullable(),
    at: Instant,
  }),
});

export const hostProcessEvents = [
  HostGpuProcessDetected,
  UnattributedGpuProcess,
  HostGpuProcessWarned,
  HostGpuProcessStopDecided,
  HostGpuProcessSignalled,
  HostGpuProcessEnded,
] as const;
