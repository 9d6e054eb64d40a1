import { z } from 'zod';

/**
 * The rules a container create can be refused by. The ids are stable: the gateway records them on
 * AccessDenied and tests and admins refer to them; the message says the rule to a person.
 */
export const CreateRule = z.enum([
  /** The body is not a create request the policy can read (a field of the wrong type). */
  'invalid-body',
  /** A `ds01.*` or `aime.mlc*` label: only DS01 writes those. */
  'reserved-label',
  'cgroup-parent',
  /** A name `<name>._.<uid>` (ds01-infra's convention, read as the owner) naming another uid. */
  'container-name',
  'cpu-limit',
  'memory-limit',
  'memory-swap-limit',
  'shm-size-limit',
  'pids-limit',
  'max-containers',
  'gpu-slots-per-container',
  /** A GPU request the policy cannot read as "N devices" (two of them, CDI, another driver). */
  'gpu-request',
  /** /dev/nvidia*, /dev/dri, a device cgroup rule, or a mount the NVIDIA toolkit reads as a device list. */
  'gpu-devices',
  /** NVIDIA_VISIBLE_DEVICES (or another NVIDIA_* device switch) or CUDA_VISIBLE_DEVICES naming a device. */
  'gpu-environment',
  /** A host device that is not in the allowlist. */
  'devices',
  'privileged',
  'cap-add',
  /** host network, PID, IPC, UTS or user namespace. */
  'host-namespace',
  /** Another user's container (or one that is not known) named by volumes-from, a namespace or a link. */
  'foreign-container',
  'bind-outside-roots',
  /** The docker socket, DS01's own sockets and state, or `/`. */
  'docker-socket',
  /** A volume driver or inline volume options (`o=bind,device=/etc`): a bind in disguise. */
  'volume-driver',
  'security-opt',
  /** MaskedPaths / ReadonlyPaths set: /proc and /sys paths unmasked. */
  'masked-paths',
  'runtime',
  'sysctls',
  /** OCI annotations: runtimes act on them (CDI device injection). */
  'annotations',
  /** A negative OOM score: the host's processes would be killed first. */
  'oom-score',
  'realtime-cpu',
  /** A host port below 1024. */
  'privileged-port',
  /** A HostConfig field newer than the policy, set to something. */
  'unknown-field',
]);
export type CreateRule = z.infer<typeof CreateRule>;

export interface CreateRefusal {
  kind: 'refused';
  rule: CreateRule;
  message: string;
}

/** A refusal whose message names the rule first, then what is wrong and what to do. */
export function refuse(rule: CreateRule, message: string): CreateRefusal {
  return { kind: 'refused', rule, message: `DS01 refused this container (${rule}): ${message}` };
}
