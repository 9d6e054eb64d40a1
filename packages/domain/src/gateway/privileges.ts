import { type HostConfig, isZeroValue, KNOWN_HOST_CONFIG_FIELDS } from './createBody.ts';
import type { CreatePolicyContext } from './createContext.ts';
import { type CreateRefusal, refuse } from './createRules.ts';

/**
 * What would lift the container's confinement: privileged mode, capabilities beyond the allowlist,
 * a weaker seccomp / AppArmor / SELinux profile, unmasked /proc paths, another runtime, host-wide
 * sysctls, runtime annotations, a negative OOM score, realtime scheduling, a privileged host port,
 * and any HostConfig field newer than this list (fail closed: nobody has decided what it grants).
 */

const capability = (name: string) => name.trim().toUpperCase().replace(/^CAP_/, '');

/** Sysctls a container's own namespaces hold (Docker's list): they touch nothing of the host. */
const NAMESPACED_SYSCTL =
  /^(kernel\.(msgmax|msgmnb|msgmni|sem|shmall|shmmax|shmmni|shm_rmid_forced)|fs\.mqueue\..+|net\..+)$/;

export function checkPrivileges(host: HostConfig, context: CreatePolicyContext): CreateRefusal | undefined {
  if (host.Privileged) {
    return refuse(
      'privileged',
      '--privileged gives the container every device and capability of the host: leave it out ' +
        '(ask for GPUs with --gpus N)',
    );
  }
  const allowed = new Set(context.capabilityAllowlist.map(capability));
  const extra = (host.CapAdd ?? []).filter((c) => !allowed.has(capability(c)));
  if (extra.length > 0) {
    return refuse(
      'cap-add',
      `--cap-add ${extra.join(', ')} is not allowed (allowed: ${[...allowed].join(', ') || 'none'}): leave it out`,
    );
  }
  return (
    checkSecurityOptions(host) ??
    checkRuntime(host, context.daemonDefaultRuntime) ??
    checkSysctls(host) ??
    checkSmallFields(host) ??
    checkUnknownFields(host)
  );
}

/** Drops CAP_MKNOD unless the allowlist let the caller add it: a device node made in a bound home is the host's. */
export function dropMknod(host: HostConfig): void {
  if ((host.CapAdd ?? []).some((c) => capability(c) === 'MKNOD')) return;
  const drop = host.CapDrop ?? [];
  if (!drop.some((c) => ['MKNOD', 'ALL'].includes(capability(c)))) host.CapDrop = [...drop, 'MKNOD'];
}

function checkSecurityOptions(host: HostConfig): CreateRefusal | undefined {
  for (const option of host.SecurityOpt ?? []) {
    // Docker accepts `key=value` and the older `key:value`.
    const at = option.search(/[=:]/);
    const key = (at < 0 ? option : option.slice(0, at)).trim();
    const value = at < 0 ? '' : option.slice(at + 1).trim();
    const allowed =
      (key === 'no-new-privileges' && ['', 'true', 'false'].includes(value)) ||
      (key === 'seccomp' && value === 'builtin') ||
      (key === 'apparmor' && value === 'docker-default') ||
      (key === 'label' && value.startsWith('level:'));
    if (!allowed) {
      const shown = option.length > 60 ? `${option.slice(0, 57)}...` : option;
      return refuse(
        'security-opt',
        `--security-opt ${shown} would weaken the container's confinement (unconfined or custom profiles, ` +
          'label types, writable cgroups, unmasked system paths): leave it out',
      );
    }
  }
  if (host.MaskedPaths || host.ReadonlyPaths) {
    return refuse(
      'masked-paths',
      "MaskedPaths / ReadonlyPaths replace Docker's masks of /proc and /sys: leave them out",
    );
  }
  return undefined;
}

function checkRuntime(host: HostConfig, daemonDefault: string | null): CreateRefusal | undefined {
  const runtime = host.Runtime ?? '';
  if (runtime === '' || runtime === 'runc' || runtime === daemonDefault) return undefined;
  return refuse(
    'runtime',
    `--runtime ${runtime} is not allowed (the nvidia runtime would hand out GPUs by environment): ` +
      'leave it out and ask for GPUs with --gpus N',
  );
}

function checkSysctls(host: HostConfig): CreateRefusal | undefined {
  const hostWide = Object.keys(host.Sysctls ?? {}).filter((key) => !NAMESPACED_SYSCTL.test(key));
  if (hostWide.length === 0) return undefined;
  return refuse(
    'sysctls',
    `--sysctl ${hostWide.join(', ')} is not the container's own (only kernel.shm*, kernel.msg*, ` +
      'kernel.sem, fs.mqueue.* and net.* are): leave it out',
  );
}

function checkSmallFields(host: HostConfig): CreateRefusal | undefined {
  const annotations = Object.keys(host.Annotations ?? {});
  if (annotations.length > 0) {
    return refuse(
      'annotations',
      `annotations (${annotations.join(', ')}) are read by the runtime (CDI injects devices from them): leave them out`,
    );
  }
  if ((host.OomScoreAdj ?? 0) < 0) {
    return refuse(
      'oom-score',
      `--oom-score-adj ${host.OomScoreAdj} would make the kernel kill other people's processes first: leave it out`,
    );
  }
  if ((host.CpuRealtimeRuntime ?? 0) !== 0 || (host.CpuRealtimePeriod ?? 0) !== 0) {
    return refuse('realtime-cpu', 'realtime CPU scheduling can starve the host: leave --cpu-rt-* out');
  }
  for (const [port, bindings] of Object.entries(host.PortBindings ?? {})) {
    for (const binding of bindings ?? []) {
      const hostPort = Number.parseInt(binding.HostPort ?? '', 10);
      if (hostPort > 0 && hostPort < 1024) {
        return refuse(
          'privileged-port',
          `host port ${binding.HostPort} (for ${port}) is below 1024, reserved for the host's services: ` +
            'publish on a port from 1024 up (-p 8080:80)',
        );
      }
    }
  }
  return undefined;
}

function checkUnknownFields(host: HostConfig): CreateRefusal | undefined {
  const unknown = Object.entries(host).find(
    ([key, value]) => !KNOWN_HOST_CONFIG_FIELDS.has(key) && !isZeroValue(value),
  );
  if (!unknown) return undefined;
  return refuse(
    'unknown-field',
    `HostConfig.${unknown[0]} is newer than DS01's policy, which cannot tell what it grants: leave it out, ` +
      'or ask an admin to update DS01',
  );
}
