import { dirname, join } from 'node:path';
import { Ds01Error } from '@ds01/errors';
import { z } from 'zod';

/**
 * The `gateway:` section of ds01.yaml: where the per-user Docker sockets are and which daemon they
 * forward to.
 * - users_dir: one folder per user holding their `docker.sock` (default /run/ds01/users;
 *   $DS01_GATEWAY_USERS_DIR over ds01.yaml, so that ds01d's run side by side, as tests run them, each
 *   serve sockets of their own);
 * - admin_socket: the root-only socket (default `<users_dir>/../admin/docker.sock`);
 * - docker_host: the real daemon (default $DOCKER_HOST, else unix:///var/run/docker.sock);
 * - max_body_bytes: the largest JSON body read (a create request is a few KiB; default 1 MiB).
 */
export const GatewayConfig = z.strictObject({
  enabled: z.boolean().default(true),
  users_dir: z.string().startsWith('/', 'must be an absolute path').default('/run/ds01/users'),
  admin_socket: z.string().startsWith('/', 'must be an absolute path').optional(),
  docker_host: z
    .string()
    .startsWith('unix://', 'must be a unix:// socket address (the gateway forwards over unix sockets)')
    .optional(),
  max_body_bytes: z
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  /** Where users may bind from besides their home (the lab's data dirs). */
  bind_roots: z.array(z.string().startsWith('/', 'must be an absolute path')).default([]),
  /** Capabilities `--cap-add` may add (none by default). */
  capability_allowlist: z.array(z.string().min(1)).default([]),
  /** Host devices `--device` may pass in (e.g. /dev/fuse); GPU device nodes never. */
  device_allowlist: z.array(z.string().startsWith('/', 'must be an absolute path')).default([]),
});
export type GatewayConfig = z.infer<typeof GatewayConfig>;

export const gatewaySection = { gateway: GatewayConfig.nullish() };

/**
 * The gateway's settings, every default filled in; `env` gives DOCKER_HOST when docker_host is absent
 * and DS01_GATEWAY_USERS_DIR over users_dir.
 */
export function gatewayConfigOf(
  yaml: object,
  env: Record<string, string | undefined> = process.env,
): Required<GatewayConfig> & { dockerSocket: string } {
  const parsed = GatewayConfig.parse((yaml as { gateway?: unknown }).gateway ?? {});
  const usersDir = env['DS01_GATEWAY_USERS_DIR'];
  if (usersDir !== undefined && usersDir !== '') {
    if (!usersDir.startsWith('/')) {
      throw new Ds01Error(`DS01_GATEWAY_USERS_DIR='${usersDir}' is not an absolute path`, {
        hint: 'unset DS01_GATEWAY_USERS_DIR or give it an absolute path, e.g. /run/ds01/users',
      });
    }
    parsed.users_dir = usersDir;
  }
  const dockerHost = parsed.docker_host ?? env['DOCKER_HOST'] ?? 'unix:///var/run/docker.sock';
  return {
    ...parsed,
    admin_socket: parsed.admin_socket ?? join(dirname(parsed.users_dir), 'admin', 'docker.sock'),
    docker_host: dockerHost,
    dockerSocket: dockerHost.startsWith('unix://') ? dockerHost.slice('unix://'.length) : dockerHost,
  };
}
