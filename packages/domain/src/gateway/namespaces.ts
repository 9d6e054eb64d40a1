import type { CreateBody } from './createBody.ts';
import type { CreatePolicyContext } from './createContext.ts';
import { type CreateRefusal, refuse } from './createRules.ts';

/**
 * The namespaces a container shares. The host's are refused outright; another container's (and its
 * volumes, and legacy links to it) only when it is the caller's own, named by full id or exact
 * name, and rewritten to the full id: dockerd resolves a name after ids and an id prefix after
 * names, so a forwarded prefix or name could land on another user's container.
 */

const NAMESPACE_FIELDS = ['NetworkMode', 'PidMode', 'IpcMode', 'UTSMode', 'UsernsMode', 'Cgroup'] as const;
const FLAG: Record<(typeof NAMESPACE_FIELDS)[number], string> = {
  NetworkMode: '--network',
  PidMode: '--pid',
  IpcMode: '--ipc',
  UTSMode: '--uts',
  UsernsMode: '--userns',
  Cgroup: '--cgroup',
};

export function checkNamespaces(body: CreateBody, context: CreatePolicyContext): CreateRefusal | undefined {
  const host = body.HostConfig ?? {};
  const own = ownContainerResolver(context);
  for (const field of NAMESPACE_FIELDS) {
    const mode = host[field] ?? '';
    if (mode === 'host') {
      return refuse(
        'host-namespace',
        `${FLAG[field]} host shares the host's namespace with the container: leave ${FLAG[field]} out`,
      );
    }
    if (mode.startsWith('container:')) {
      const id = own(mode.slice('container:'.length));
      if ('kind' in id) return id;
      host[field] = `container:${id.id}`;
    }
  }
  if ('host' in (body.NetworkingConfig?.EndpointsConfig ?? {})) {
    return refuse('host-namespace', "the network 'host' is the host's own: leave --network host out");
  }
  if (host.VolumesFrom) {
    const rewritten: string[] = [];
    for (const entry of host.VolumesFrom) {
      const [ref = '', mode] = entry.split(':');
      const id = own(ref);
      if ('kind' in id) return id;
      rewritten.push(mode === undefined ? id.id : `${id.id}:${mode}`);
    }
    host.VolumesFrom = rewritten;
  }
  if (host.Links) {
    const rewritten: string[] = [];
    for (const link of host.Links) {
      const [ref = '', alias] = link.split(':');
      const id = own(ref.replace(/^\//, ''));
      if ('kind' in id) return id;
      rewritten.push(`${id.id}:${alias ?? ref.replace(/^\//, '')}`);
    }
    host.Links = rewritten;
  }
  return undefined;
}

function ownContainerResolver(context: CreatePolicyContext) {
  const containers = context.ownContainers ?? [];
  return (ref: string): { id: string } | CreateRefusal => {
    const name = ref.replace(/^\//, '');
    const found =
      containers.find((c) => c.id === ref) ?? containers.find((c) => c.name.replace(/^\//, '') === name);
    if (found) return { id: found.id };
    return refuse(
      'foreign-container',
      `"${ref}" is not one of your containers: you may share volumes and namespaces only with your own, ` +
        'named by full id or name (docker ps --no-trunc lists them)',
    );
  };
}
