import { z } from 'zod';
import { ContainerId, Instant, UserName } from '../values.ts';

/** What the gateway received: the JSON body of `POST /containers/create` and its query. */
export interface CreateRequest {
  body: unknown;
  query: { name?: string; platform?: string };
}

const bytes = z.number().int().positive().nullable();

/**
 * One user's per-container limits, ds01-infra's keys (resource-limits.yaml), in numbers: sizes in
 * bytes, CPUs in cores; null is unlimited. packages/config fills it from the effective limits.
 */
export const CreateLimitsSchema = z.strictObject({
  max_cpus: z.number().positive().nullable(),
  memory: bytes,
  /** Memory plus swap, as Docker's MemorySwap counts it. */
  memory_swap: bytes,
  shm_size: bytes,
  pids_limit: z.number().int().positive().nullable(),
  max_containers_per_user: z.number().int().nonnegative().nullable(),
  max_gpu_slots_per_container: z.number().int().nonnegative().nullable(),
});
export type CreateLimits = z.infer<typeof CreateLimitsSchema>;

/**
 * How the container was asked for: what `ds01.interface` and `ds01.container_type` say. `atomic` is
 * ds01-infra's word for its own commands' containers: the ds01 CLI's (`container deploy`, `setup`,
 * `project launch`) say so with the X-DS01-Interface header (see the gateway's detectInterface).
 */
export const CreateInterface = z.enum(['docker', 'compose', 'devcontainer', 'api', 'atomic']);
export type CreateInterface = z.infer<typeof CreateInterface>;

const absolutePath = z.string().regex(/^\//, 'must be an absolute path');

/**
 * Everything the create policy decides on besides the request, gathered by the gateway: who is
 * asking (the socket's owner, which the kernel vouches for), their limits and containers, the host.
 */
export const CreatePolicyContextSchema = z.strictObject({
  user: z.strictObject({
    name: UserName,
    uid: z.number().int().nonnegative(),
    gid: z.number().int().nonnegative(),
    /** The group of their slice: effective limits' group (`override` for a user with an override). */
    group: z.string().regex(/^\w+$/, 'must be one word: systemd reads a "-" as a slice level'),
  }),
  interface: CreateInterface,
  limits: CreateLimitsSchema,
  /** How many containers the user has now. */
  runningContainers: z.number().int().nonnegative(),
  /** Where the user may bind from: their home and the configured data dirs. */
  allowedBindRoots: z.array(absolutePath),
  /** Capabilities `--cap-add` may add (`NET_ADMIN` or `CAP_NET_ADMIN`). */
  capabilityAllowlist: z.array(z.string()),
  /** Host devices `--device` may pass in (e.g. /dev/fuse); GPU device nodes never. */
  deviceAllowlist: z.array(absolutePath).optional(),
  /** The daemon's default runtime (`docker info`); `nvidia` makes NVIDIA_VISIBLE_DEVICES reach GPUs. */
  daemonDefaultRuntime: z.string().nullable(),
  /**
   * The user's own containers, for references to a container (`--volumes-from`, `--network
   * container:`, `--link`): by full id or exact name, rewritten to the full id.
   */
  ownContainers: z.array(z.strictObject({ id: ContainerId, name: z.string() })).optional(),
  /**
   * Bind sources as the gateway resolved them on the host (realpath of the longest existing prefix):
   * a symlink in a home must not lead a bind out of it. Keys are the sources as `createBindSources` lists
   * them; a source without an entry is decided (and forwarded) as written.
   */
  realPaths: z.record(z.string(), absolutePath).optional(),
  now: Instant,
});
export type CreatePolicyContext = z.infer<typeof CreatePolicyContextSchema>;
