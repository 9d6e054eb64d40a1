import { posix } from 'node:path';
import { type CreateBody, CreateBodySchema } from './createBody.ts';
import type { CreatePolicyContext } from './createContext.ts';
import { type CreateRefusal, refuse } from './createRules.ts';
import { NVIDIA_DEVICE_MOUNTS } from './gpuRequests.ts';

/**
 * What a container may mount from the host. A bind must come from under one of the user's roots
 * (their home, the configured data dirs), `..` resolved; and never from the docker socket, DS01's
 * own sockets and store, or an ancestor of them (`/`, `/run`): each of those is root on the host.
 * Symlinks are the gateway's to resolve (it sees the host): it passes each source's real path,
 * the policy checks it too and forwards it, so dockerd binds what was checked.
 *
 * What this cannot stop: container root writes into the bound home as host root (a setuid binary,
 * a device node). The host must mount user-writable roots nosuid,nodev (or run dockerd with
 * userns-remap); the policy also drops CAP_MKNOD by default.
 */

/** Paths no bind may reach or contain. `/var/run` is usually `/run`; both are listed for lexical checks. */
const FORBIDDEN = [
  '/run/docker.sock',
  '/var/run/docker.sock',
  '/run/docker',
  '/var/run/docker',
  '/run/containerd',
  '/var/run/containerd',
  '/run/ds01',
  '/var/run/ds01',
  '/var/lib/docker',
  '/var/lib/containerd',
  '/var/lib/ds01',
];

export function isWithin(path: string, root: string): boolean {
  return path === root || root === '/' || path.startsWith(`${root}/`);
}

/** Absolute and normalised (`..` and `.` resolved, no trailing `/`), or null for a volume name. */
function hostPath(source: string): string | null {
  if (!source.startsWith('/')) return null;
  const normal = posix.normalize(source);
  return normal.length > 1 ? normal.replace(/\/+$/, '') : normal;
}

function forbiddenPath(path: string): boolean {
  return (
    path === '/' ||
    posix.basename(path) === 'docker.sock' ||
    FORBIDDEN.some((f) => isWithin(path, f) || isWithin(f, path))
  );
}

/**
 * The host paths of a create body's binds (Binds, and Mounts of type bind), normalised: what the
 * gateway resolves on the host (realpath) and passes back as the context's realPaths.
 */
export function createBindSources(body: unknown): string[] {
  const parsed = CreateBodySchema.safeParse(body);
  if (!parsed.success) return [];
  const host = parsed.data.HostConfig ?? {};
  const fromBinds = (host.Binds ?? []).map((b) => splitBind(b).source);
  const fromMounts = (host.Mounts ?? []).filter((m) => m.Type === 'bind').map((m) => m.Source ?? '');
  const paths = [...fromBinds, ...fromMounts].map((s) => (s === null ? null : hostPath(s)));
  return [...new Set(paths)].filter((p): p is string => p !== null);
}

/** `src:dst[:options]`, `dst` alone (an anonymous volume), or `name:dst` (a named volume). */
function splitBind(bind: string): { source: string | null; rest: string } {
  const at = bind.indexOf(':');
  return at < 0 ? { source: null, rest: bind } : { source: bind.slice(0, at), rest: bind.slice(at) };
}

/** Checks every mount; rewrites bind sources to the real paths that were checked. */
export function checkMounts(body: CreateBody, context: CreatePolicyContext): CreateRefusal | undefined {
  const host = body.HostConfig ?? {};
  const roots = context.allowedBindRoots.map((r) => hostPath(r)!);
  const real = context.realPaths ?? {};
  const check = (source: string): { path: string } | CreateRefusal => {
    const lexical = hostPath(source);
    if (lexical === null) {
      return refuse(
        'bind-outside-roots',
        `the bind source "${source}" is not an absolute path: give the full path`,
      );
    }
    const resolved = real[lexical] ?? lexical;
    if (forbiddenPath(lexical) || forbiddenPath(resolved)) {
      return refuse(
        'docker-socket',
        `binding ${source}${resolved !== lexical ? ` (${resolved})` : ''} would give the container the docker ` +
          "socket, DS01's own state or the whole host, which is root on this machine: bind a folder of your home instead",
      );
    }
    if (!roots.some((root) => isWithin(resolved, root))) {
      return refuse(
        'bind-outside-roots',
        `${source}${resolved !== lexical ? ` (which is ${resolved})` : ''} is outside the folders you may bind ` +
          `(${roots.join(', ') || 'none'}): bind from there, or use a named volume`,
      );
    }
    return { path: resolved };
  };

  const binds: string[] = [];
  for (const bind of host.Binds ?? []) {
    const { source, rest } = splitBind(bind);
    const target = rest.split(':')[1] ?? (source === null ? rest : '');
    const device = deviceMount(target);
    if (device) return device;
    if (source === null || !source.startsWith('/')) {
      binds.push(bind);
      continue;
    }
    const checked = check(source);
    if ('kind' in checked) return checked;
    binds.push(`${checked.path}${rest}`);
  }
  if (host.Binds) host.Binds = binds;

  for (const mount of host.Mounts ?? []) {
    const device = deviceMount(mount.Target ?? '');
    if (device) return device;
    const type = mount.Type ?? '';
    if (type === 'bind') {
      const checked = check(mount.Source ?? '');
      if ('kind' in checked) return checked;
      mount.Source = checked.path;
    } else if (type === 'volume') {
      const driver = mount.VolumeOptions?.DriverConfig;
      const options = Object.keys(driver?.Options ?? {});
      if ((driver?.Name && driver.Name !== 'local') || options.length > 0) {
        return refuse(
          'volume-driver',
          `the volume for ${mount.Target} has driver options (${[driver?.Name, ...options].filter(Boolean).join(', ')}), ` +
            'which can bind any host path: use a plain named volume',
        );
      }
    } else if (type !== 'tmpfs' && type !== 'image') {
      return refuse('volume-driver', `a mount of type "${type}" is not allowed: use bind, volume or tmpfs`);
    }
  }

  if (host.VolumeDriver && host.VolumeDriver !== 'local') {
    return refuse(
      'volume-driver',
      `the volume driver "${host.VolumeDriver}" can mount anything: leave --volume-driver out`,
    );
  }
  for (const target of [...Object.keys(host.Tmpfs ?? {}), ...Object.keys(body.Volumes ?? {})]) {
    const device = deviceMount(target);
    if (device) return device;
  }
  return undefined;
}

/** A mount the NVIDIA toolkit can read as "inject these devices". */
function deviceMount(target: string): CreateRefusal | undefined {
  const path = hostPath(target);
  if (path === null || !isWithin(path, NVIDIA_DEVICE_MOUNTS)) return undefined;
  return refuse(
    'gpu-devices',
    `a mount at ${target} asks the NVIDIA runtime for devices DS01 did not grant: ask with --gpus N`,
  );
}
