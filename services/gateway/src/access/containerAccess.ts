import { Label } from '@ds01/domain';
import { type Refusal, refuse } from '../decision.ts';
import type { GatewayContext } from '../gatewayContext.ts';
import { encodeTarget } from '../request/requestTarget.ts';
import { dockerMessage } from '../upstream/dockerUpstream.ts';
import type { Caller } from './caller.ts';

export interface ResolvedContainer {
  id: string;
  name: string;
  labels: Record<string, string>;
  owner: string | null;
}

/**
 * The container a reference names, resolved by dockerd itself (GET /containers/{ref}/json: full id,
 * then name, then unique id prefix — exactly its own rules), and whether the caller may touch it.
 * The request is then forwarded with the full id, so a rename or a new container between this check
 * and dockerd's answer cannot make it act on another container.
 */
export async function resolveOwnContainer(
  context: GatewayContext,
  caller: Caller,
  ref: string,
  endpoint: string,
): Promise<ResolvedContainer | Refusal> {
  // A full id whose owner is known needs no lookup: an id names one container for ever, and its owner
  // never changes. dockerd answers 404 itself if it is gone. Names and prefixes are always resolved.
  if (/^[0-9a-f]{64}$/.test(ref)) {
    const owner = context.owners.known(ref);
    if (owner !== undefined && (caller.kind === 'admin' || owner === caller.user)) {
      return { id: ref, name: ref, labels: {}, owner };
    }
  }
  const answer = await context.upstream.json('GET', encodeTarget(null, ['containers', ref, 'json'], []));
  if (answer.status !== 200) {
    return { ...refuse(answer.status, 'not-found', dockerMessage(answer.body), ref), record: false };
  }
  const body = answer.body as {
    Id: string;
    Name: string;
    Config?: { Labels?: Record<string, string> | null };
  };
  const labels = body.Config?.Labels ?? {};
  const resolved = {
    id: body.Id,
    name: body.Name.replace(/^\//, ''),
    labels,
    owner: context.owners.ownerOf(body.Id, labels),
  };
  if (caller.kind === 'admin' || resolved.owner === caller.user) return resolved;
  return refuse(
    403,
    'not-owner',
    `container ${JSON.stringify(ref)} is not yours (${endpoint} is allowed on your own containers only; ` +
      'yours: docker ps -a)',
    ref,
  );
}

/** A volume or network is the caller's when its `ds01.user` label (set by the gateway at create) says so. */
export function ownsLabelled(caller: Caller, labels: Record<string, string> | null | undefined): boolean {
  return caller.kind === 'admin' || labels?.[Label.user] === caller.user;
}

/**
 * Other containers a create request reaches into: `--volumes-from`, `--network/--pid/--ipc
 * container:X`, `--link X:alias`. Each must be the caller's too.
 */
export function referencedContainers(body: Record<string, unknown>): string[] {
  const hostConfig = (body['HostConfig'] ?? {}) as Record<string, unknown>;
  const refs: string[] = [];
  for (const entry of (hostConfig['VolumesFrom'] ?? []) as string[])
    refs.push(entry.replace(/:(ro|rw)$/, ''));
  for (const mode of ['NetworkMode', 'PidMode', 'IpcMode'] as const) {
    const value = hostConfig[mode];
    if (typeof value === 'string' && value.startsWith('container:'))
      refs.push(value.slice('container:'.length));
  }
  for (const link of (hostConfig['Links'] ?? []) as string[])
    refs.push(link.split(':')[0]!.replace(/^\//, ''));
  return refs;
}

/** Named volumes a create request mounts (`-v name:/path`, `--mount type=volume,source=name`). */
export function referencedVolumes(body: Record<string, unknown>): string[] {
  const hostConfig = (body['HostConfig'] ?? {}) as Record<string, unknown>;
  const names: string[] = [];
  for (const bind of (hostConfig['Binds'] ?? []) as string[]) {
    const source = bind.split(':')[0] ?? '';
    // A bind of a host path starts with '/'; anything else is a volume name (dockerd's own test).
    if (source && !source.startsWith('/')) names.push(source);
  }
  for (const mount of (hostConfig['Mounts'] ?? []) as Array<Record<string, unknown>>) {
    if (mount['Type'] === 'volume' && typeof mount['Source'] === 'string' && mount['Source']) {
      names.push(mount['Source']);
    }
  }
  return names;
}
