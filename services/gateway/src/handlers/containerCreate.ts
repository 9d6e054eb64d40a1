import { realpath } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { createPolicyLimits, effectiveLimits } from '@ds01/config';
import { type CreateInterface, GrantNotPendingError, Label } from '@ds01/domain';
import { lookupAccount } from '@ds01/host/accounts';
import { socketOf } from '../access/caller.ts';
import {
  ownsLabelled,
  referencedContainers,
  referencedVolumes,
  resolveOwnContainer,
} from '../access/containerAccess.ts';
import {
  allocateForCreate,
  bindGrant,
  type CreateGrant,
  createBindSources,
  decideContainerCreate as decidePolicy,
  releaseGrant,
  withGrantedDevices,
} from '../createPolicyAdapter.ts';
import { forwardJson, type RouteCall, readJsonBody } from '../decideRequest.ts';
import { type Decision, refuse } from '../decision.ts';
import { recordCreation } from '../gatewayContext.ts';
import { containerCreateShape } from '../request/goJson.ts';
import { encodeTarget, firstValue } from '../request/requestTarget.ts';

/** The request header with which the ds01 CLI says a create is one of its own commands'. */
export const INTERFACE_HEADER = 'x-ds01-interface';

/**
 * How the request came: compose and dev containers say so in their labels; the ds01 CLI in the
 * X-DS01-Interface header (`atomic`, ds01-infra's word for its own commands' containers).
 *
 * The header is a claim anyone on the socket can make: the CLI runs as the user with no secret of
 * its own, so nothing it sends can prove it is the CLI. That is safe because nothing that is
 * enforced follows from it: the interface only picks the labels `ds01.interface` /
 * `ds01.container_type` and the lifecycle's per-origin policy, and every container made through
 * the gateway is `ds01.managed=true`, which already gives it its owner's own limits
 * (lifecyclePolicy: managed or atomic → the owner's idle_timeout_h and max_runtime_h). Owner, slice,
 * limits and GPUs never depend on it. So a caller may claim `atomic` and only that: any other value
 * is ignored (docker), and a tool's own labels (a dev container, a compose project) win over it,
 * since they say what actually made the container.
 */
export function detectInterface(
  labels: Readonly<Record<string, string>>,
  claimed?: string | readonly string[],
): CreateInterface {
  const keys = Object.keys(labels);
  if (keys.some((k) => k.startsWith('devcontainer.'))) return 'devcontainer';
  if (keys.some((k) => k.startsWith('com.docker.compose.'))) return 'compose';
  if (claimed === 'atomic') return 'atomic';
  return 'docker';
}

/**
 * POST /containers/create: parse the body as dockerd will (400 when it cannot be read), check that
 * whatever it reaches into (other containers, named volumes) is the caller's, ask the create
 * policy, allocate the GPUs it asks for, forward the rewritten body, and record the creation with
 * its kernel-checked owner (ContainerCreateAuthorized) once dockerd answered 201; a create dockerd
 * refused gives its GPUs back.
 */
export async function decideContainerCreate(routeCall: RouteCall): Promise<Decision> {
  const { context, caller, call, target, endpoint } = routeCall;
  const body = await readJsonBody(routeCall, containerCreateShape);
  const name = firstValue(target.query, 'name') ?? null;
  const platform = firstValue(target.query, 'platform');
  const labels = (body['Labels'] ?? {}) as Record<string, string>;
  const createInterface = detectInterface(labels, call.headers[INTERFACE_HEADER]);
  // Only the first `name` and `platform` are what dockerd reads; the request forwards exactly those.
  const query: Array<[string, string]> = [
    ...(name === null ? [] : [['name', name] as [string, string]]),
    ...(platform === undefined ? [] : [['platform', platform] as [string, string]]),
  ];
  const forwardedTarget = encodeTarget(target.version, ['containers', 'create'], query);
  const record =
    (user: string | null, rewritten: string[], devices: string[]) =>
    async (status: number, answer: unknown) => {
      const id = (answer as { Id?: unknown } | null)?.Id;
      if (status !== 201 || typeof id !== 'string') return;
      await recordCreation(context, caller, {
        containerId: id,
        user,
        socket: socketOf(caller),
        interface: createInterface,
        name,
        rewritten,
        devices,
      });
    };
  if (caller.kind === 'admin') {
    const recordAdmin = record(null, [], []);
    return forwardJson(call.method, forwardedTarget, body, async (status, answer) => {
      await recordAdmin(status, answer);
      return undefined;
    });
  }

  for (const ref of referencedContainers(body)) {
    const other = await resolveOwnContainer(context, caller, ref, endpoint);
    if ('kind' in other) return { ...other, status: other.status === 404 ? 400 : other.status };
  }
  for (const volume of referencedVolumes(body)) {
    const answer = await context.upstream.json('GET', encodeTarget(null, ['volumes', volume], []));
    const volumeLabels = (answer.body as { Labels?: Record<string, string> | null } | null)?.Labels;
    if (answer.status === 200 && !ownsLabelled(caller, volumeLabels)) {
      return refuse(
        403,
        'not-owner',
        `volume ${JSON.stringify(volume)} is not yours: mount your own volumes only`,
        volume,
      );
    }
  }

  const limits = effectiveLimits(context.resourceLimits(), caller.user);
  const mine = await context.upstream.json(
    'GET',
    encodeTarget(
      null,
      ['containers', 'json'],
      [
        ['all', '1'],
        ['filters', JSON.stringify({ label: [`${Label.user}=${caller.user}`] })],
      ],
    ),
  );
  const own = Array.isArray(mine.body)
    ? (mine.body as Array<{ Id: string; Names?: string[]; State?: string }>)
    : [];
  const account = await lookupAccount(caller.user);
  const daemon = await context.daemonInfo();
  const createLimits = createPolicyLimits(limits);
  // A CPU limit above the host's CPUs limits nothing, and dockerd refuses it: the host's is the limit then.
  if (daemon.cpus !== null && (createLimits.max_cpus === null || createLimits.max_cpus > daemon.cpus))
    createLimits.max_cpus = daemon.cpus;
  const decision = decidePolicy(
    { body, query: { ...(name === null ? {} : { name }), ...(platform === undefined ? {} : { platform }) } },
    {
      user: { name: caller.user, uid: caller.uid, gid: caller.gid, group: caller.group },
      interface: createInterface,
      limits: createLimits,
      runningContainers: own.filter((c) => c.State === 'running').length,
      allowedBindRoots: [...(account ? [account.home] : []), ...context.createRules.bindRoots],
      capabilityAllowlist: context.createRules.capabilityAllowlist,
      deviceAllowlist: context.createRules.deviceAllowlist,
      daemonDefaultRuntime: daemon.defaultRuntime,
      ownContainers: own.map((c) => ({ id: c.Id, name: (c.Names?.[0] ?? '').replace(/^\//, '') })),
      realPaths: await realPathsOf(createBindSources(body)),
      now: context.clock().toISOString(),
    },
  );
  if (decision.kind === 'refused') return refuse(403, `create-policy:${decision.rule}`, decision.message);

  let forwarded = decision.body;
  let grant: CreateGrant | null = null;
  if (decision.gpuRequest) {
    grant = await allocateForCreate(context.allocator, caller.user, decision.gpuRequest);
    if (!grant.granted)
      return { ...refuse(403, 'gpu-denied', grant.message), details: { reason: grant.reason } };
    forwarded = withGrantedDevices(forwarded, grant.devices);
  }
  const rewritten = describeRewrite(body, forwarded);
  const granted = grant?.granted ? grant : null;
  const recordIt = record(caller.user, rewritten, granted?.devices ?? []);
  return {
    ...forwardJson(call.method, forwardedTarget, forwarded, async (status, answer) => {
      if (granted && status !== 201) {
        await releaseGrant(context.allocator, granted);
        return undefined;
      }
      const id = (answer as { Id?: string }).Id;
      if (granted && id) {
        try {
          await bindGrant(context.allocator, granted, id);
        } catch (error) {
          // The grant expired (or was released) before dockerd answered: its devices may be another
          // user's by now, so the container must not exist with them.
          await context.upstream
            .json('DELETE', encodeTarget(null, ['containers', id], [['force', '1']]))
            .catch(() => {});
          // Not the gateway's failure nor Docker's (a 502 would say so): the request lost a race
          // with the grant's deadline, and the same request again gets a fresh grant.
          if (error instanceof GrantNotPendingError) {
            return refuse(
              409,
              'gpu-grant-expired',
              `the GPUs granted for this container were given up before Docker created it (the grant expired or was released): the container was removed; try again`,
            );
          }
          throw error;
        }
      }
      await recordIt(status, answer);
      return undefined;
    }),
    onDone: (status) => {
      // dockerd never answered: the grant would be held by nobody's container.
      if (status === null && granted) void releaseGrant(context.allocator, granted).catch(() => {});
    },
  };
}

/** One line per top-level change the policy made (labels added, limits set, devices granted...). */
function describeRewrite(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const lines: string[] = [];
  const beforeLabels = (before['Labels'] ?? {}) as Record<string, string>;
  for (const [key, value] of Object.entries((after['Labels'] ?? {}) as Record<string, string>)) {
    if (beforeLabels[key] !== value) lines.push(`label ${key}=${value}`);
  }
  const beforeHost = (before['HostConfig'] ?? {}) as Record<string, unknown>;
  for (const [key, value] of Object.entries((after['HostConfig'] ?? {}) as Record<string, unknown>)) {
    if (JSON.stringify(beforeHost[key]) !== JSON.stringify(value))
      lines.push(`HostConfig.${key}=${JSON.stringify(value)}`);
  }
  for (const key of Object.keys(after)) {
    if (
      key !== 'Labels' &&
      key !== 'HostConfig' &&
      JSON.stringify(before[key]) !== JSON.stringify(after[key])
    ) {
      lines.push(`${key}=${JSON.stringify(after[key])}`);
    }
  }
  return lines;
}

/**
 * Each bind source as the host resolves it: the real path of its longest existing prefix, with the
 * rest appended (dockerd creates a missing source). A link in a home must not lead a bind out of it;
 * the policy decides on these and the gateway forwards them.
 */
async function realPathsOf(sources: readonly string[]): Promise<Record<string, string>> {
  const real: Record<string, string> = {};
  for (const source of sources) {
    let existing = source;
    for (;;) {
      try {
        const resolved = await realpath(existing);
        real[source] = join(resolved, relative(existing, source));
        break;
      } catch {
        const parent = dirname(existing);
        if (parent === existing) break;
        existing = parent;
      }
    }
  }
  return real;
}
