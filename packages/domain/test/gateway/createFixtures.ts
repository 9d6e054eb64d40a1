import { readFileSync } from 'node:fs';
import type { CreatePolicyContext } from '@ds01/domain';

/** Bodies the real docker CLI sent (fixtures/SOURCES.md). */
export const cliBodies = JSON.parse(
  readFileSync(new URL('./fixtures/dockerCliCreateBodies.json', import.meta.url), 'utf8'),
) as Record<'plain' | 'gpus-1-bind-shm-pids' | 'hostile', Record<string, unknown>>;

const GIB = 1024 ** 3;

export const bobsContainer = { id: 'b'.repeat(64), name: 'bobs-db' };
export const alicesContainer = { id: 'a'.repeat(64), name: 'alices-db' };

/** alice, a student: ds01-infra's default student limits. */
export function aliceContext(changes: Partial<CreatePolicyContext> = {}): CreatePolicyContext {
  return {
    user: { name: 'alice', uid: 1001, gid: 1001, group: 'student' },
    interface: 'docker',
    limits: {
      max_cpus: 8,
      memory: 32 * GIB,
      memory_swap: 32 * GIB,
      shm_size: 16 * GIB,
      pids_limit: 4096,
      max_containers_per_user: 3,
      max_gpu_slots_per_container: 2,
    },
    runningContainers: 0,
    allowedBindRoots: ['/home/alice', '/data/shared'],
    capabilityAllowlist: ['SYS_PTRACE'],
    deviceAllowlist: ['/dev/fuse'],
    daemonDefaultRuntime: 'runc',
    ownContainers: [alicesContainer],
    now: '2026-12-03T12:00:00.000Z',
    ...changes,
  };
}

/** The plain CLI body with these HostConfig fields and top-level fields changed. */
export function bodyWith(
  hostConfig: Record<string, unknown> = {},
  top: Record<string, unknown> = {},
): Record<string, unknown> {
  const body = structuredClone(cliBodies.plain);
  return { ...body, ...top, HostConfig: { ...(body['HostConfig'] as object), ...hostConfig } };
}
