import { z } from 'zod';
import { defineEvent } from '../events/defineEvent.ts';
import { ContainerId, UserName } from '../values.ts';

/**
 * What the gateway records. Its events are the kernel-checked part of DS01's record: the socket a
 * request came in on was made for one user (owned by them, mode 0600), so these name a user the
 * kernel vouched for, not one a label or a path claims.
 */

/** The stream of the gateway's refusals and admin calls on one host (bounded by what people try). */
export const gatewayStream = (host: string) => `gateway-${host}`;

/** Which door a request came through: a user's socket or the root-only admin socket. */
export const GatewaySocket = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('user'), user: UserName, path: z.string().min(1) }),
  z.strictObject({ kind: z.literal('admin'), path: z.string().min(1) }),
]);
export type GatewaySocket = z.infer<typeof GatewaySocket>;

/**
 * How a container was asked for (docker CLI/SDK, compose, a dev container, the DS01 API). The same
 * values as the create policy's CreateInterface (createContext.ts, branch createpolicy): once both
 * are merged, this one is that one.
 */
export const GatewayInterface = z.enum(['docker', 'compose', 'devcontainer', 'api']);
export type GatewayInterface = z.infer<typeof GatewayInterface>;

/** A request the gateway refused: who asked, what for, and the rule that said no. */
export const AccessDenied = defineEvent({
  type: 'AccessDenied',
  schema: z.strictObject({
    user: UserName,
    /** `<METHOD> <route pattern>` as the gateway's allowlist names it, or the raw path when none matched. */
    endpoint: z.string().min(1),
    /** The container, exec, volume or network the request named, as written (null when none). */
    target: z.string().nullable(),
    /** A stable name of the rule (`not-allowed`, `not-owner`, `create-policy:<rule>`, `bad-request`...). */
    rule: z.string().min(1),
    /** What the caller was told. */
    message: z.string().min(1),
    status: z.number().int().min(400).max(599),
  }),
});

/**
 * A container created through the gateway: dockerd answered 201 to a request that came in on
 * `socket`, so its owner is the socket's user (issue 16: ownership its creator cannot write).
 */
export const ContainerCreateAuthorized = defineEvent({
  type: 'ContainerCreateAuthorized',
  schema: z.strictObject({
    containerId: ContainerId,
    /** The owner: the user of the socket (null: through the admin socket, owned by nobody in particular). */
    user: UserName.nullable(),
    socket: GatewaySocket,
    interface: GatewayInterface,
    /** The name asked for (`?name=`), if any. */
    name: z.string().nullable(),
    /** What the gateway changed in the request, one line each (labels added, devices granted...). */
    rewritten: z.array(z.string()),
    /** The GPU or MIG devices granted to it (empty: none asked for). */
    devices: z.array(z.string()),
  }),
});

/**
 * A mutating call through the admin socket: unrestricted, but never unrecorded. Appended before the
 * call is forwarded, so a crash between the two cannot leave a change without its record.
 */
export const AdminCallForwarded = defineEvent({
  type: 'AdminCallForwarded',
  schema: z.strictObject({
    method: z.string().min(1),
    /** The decoded path, without the version prefix. */
    path: z.string().min(1),
    /** The query as forwarded (decoded pairs). */
    query: z.array(z.tuple([z.string(), z.string()])),
    /** The uid the admin socket belongs to (root). */
    uid: z.number().int().nonnegative(),
  }),
});

export const gatewayEvents = [AccessDenied, ContainerCreateAuthorized, AdminCallForwarded] as const;
