import type { GpuRequest } from '../allocation/events.ts';
import { Label } from '../containers/labels.ts';
import { sanitiseUsername, userSliceName } from '../containers/userSlices.ts';
import { checkMounts } from './bindMounts.ts';
import { type CreateBody, CreateBodySchema, type HostConfig } from './createBody.ts';
import type { CreateInterface, CreatePolicyContext, CreateRequest } from './createContext.ts';
import { applyLimits } from './createLimits.ts';
import { type CreateRefusal, refuse } from './createRules.ts';
import { checkDevices, checkGpuEnvironment, readGpuRequest, withoutGpus } from './gpuRequests.ts';
import { checkNamespaces } from './namespaces.ts';
import { checkPrivileges, dropMknod } from './privileges.ts';

/**
 * What a `POST /containers/create` through a user's gateway socket becomes: refused with the rule
 * that forbids it, or allowed as a rewritten body — labelled as the user's, in the user's slice,
 * under their limits, with no way to a GPU but the allocator's grant (`gpuRequest`, which the
 * gateway allocates and puts back with withGrantedDevices). Pure: the gateway gathers the context.
 */
export type CreateDecision =
  | CreateRefusal
  | { kind: 'allowed'; body: Record<string, unknown>; gpuRequest: GpuRequest | null };

/** ds01.interface and ds01.container_type in ds01-infra's vocabulary (config/label-schema.yaml). */
const INTERFACE_LABELS: Record<CreateInterface, { interface: string; containerType: string }> = {
  docker: { interface: 'docker', containerType: 'docker' },
  compose: { interface: 'other', containerType: 'compose' },
  devcontainer: { interface: 'vscode', containerType: 'devcontainer' },
  api: { interface: 'api', containerType: 'api' },
  // ds01-infra's wrapper writes the interface into the type for its native containers.
  atomic: { interface: 'atomic', containerType: 'atomic' },
};

const RESERVED_LABEL = /^(ds01\.|aime\.mlc(\.|$))/;

export function decideContainerCreate(request: CreateRequest, context: CreatePolicyContext): CreateDecision {
  const parsed = CreateBodySchema.safeParse(
    typeof request.body === 'object' && request.body !== null ? structuredClone(request.body) : request.body,
  );
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return refuse(
      'invalid-body',
      `${issue.path.join('.') || 'the body'}: ${issue.message} (a create request is a JSON object of the Engine API)`,
    );
  }
  const body = parsed.data;
  body.HostConfig ??= {};
  const host = body.HostConfig;

  const refusal =
    checkLabels(body) ??
    checkName(request.query.name, context) ??
    checkCgroupParent(host, context) ??
    checkContainerCount(context) ??
    checkPrivileges(host, context) ??
    checkNamespaces(body, context) ??
    checkDevices(host, context.deviceAllowlist ?? []) ??
    checkGpuEnvironment(body.Env ?? []) ??
    checkMounts(body, context) ??
    applyLimits(host, context.limits);
  if (refusal) return refusal;
  const gpu = readGpuRequest(host, context.limits.max_gpu_slots_per_container);
  if ('kind' in gpu) return gpu;

  withoutGpus(body);
  dropMknod(host);
  host.CgroupParent = userSliceName(context.user.group, context.user.name);
  body.Labels = { ...(body.Labels ?? {}), ...ds01Labels(context) };
  return { kind: 'allowed', body, gpuRequest: gpu.request };
}

/** The labels ds01-infra's creators put on a container, from the socket's owner. */
function ds01Labels(context: CreatePolicyContext): Record<string, string> {
  const { interface: iface, containerType } = INTERFACE_LABELS[context.interface];
  return {
    [Label.user]: context.user.name,
    'ds01.user.sanitized': sanitiseUsername(context.user.name),
    [Label.managed]: 'true',
    [Label.interface]: iface,
    [Label.containerType]: containerType,
    'ds01.created_at': context.now,
  };
}

function checkLabels(body: CreateBody): CreateRefusal | undefined {
  const reserved = Object.keys(body.Labels ?? {}).filter((key) => RESERVED_LABEL.test(key));
  if (reserved.length === 0) return undefined;
  return refuse(
    'reserved-label',
    `the label${reserved.length === 1 ? '' : 's'} ${reserved.join(', ')} ${reserved.length === 1 ? 'is' : 'are'} ` +
      "DS01's own: it sets who owns the container from your socket; leave them out",
  );
}

/** ds01-infra reads the uid in `<name>._.<uid>` as the owner: a name may carry only the caller's. */
function checkName(name: string | undefined, context: CreatePolicyContext): CreateRefusal | undefined {
  const uid = /\._\.(\d+)$/.exec(name ?? '')?.[1];
  if (uid === undefined || Number(uid) === context.user.uid) return undefined;
  return refuse(
    'container-name',
    `the name ${name} ends in ._.${uid}, which names the owner by uid, and yours is ${context.user.uid}: ` +
      `choose another name (or end it in ._.${context.user.uid})`,
  );
}

function checkCgroupParent(host: HostConfig, context: CreatePolicyContext): CreateRefusal | undefined {
  const slice = userSliceName(context.user.group, context.user.name);
  const given = host.CgroupParent ?? '';
  // ds01-infra's own tools pass the user's slice themselves: naming it again changes nothing.
  if (given === '' || given === slice) return undefined;
  return refuse(
    'cgroup-parent',
    `--cgroup-parent ${given}: your containers run in ${slice}, where your limits hold; leave it out`,
  );
}

function checkContainerCount(context: CreatePolicyContext): CreateRefusal | undefined {
  const max = context.limits.max_containers_per_user;
  if (max === null || context.runningContainers < max) return undefined;
  return refuse(
    'max-containers',
    `you have ${context.runningContainers} containers and may have at most ${max} (max_containers_per_user): ` +
      'remove one (docker ps -a, docker rm NAME) and try again',
  );
}
