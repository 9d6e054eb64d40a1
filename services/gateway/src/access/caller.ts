import type { GatewaySocket } from '@ds01/domain';

/**
 * Who is calling: the user the socket was made for (the kernel let only them connect: the socket is
 * theirs, mode 0600, in their 0700 folder), or root on the admin socket. Never read from the request.
 */
export type Caller =
  | { kind: 'user'; user: string; uid: number; gid: number; group: string; socketPath: string }
  | { kind: 'admin'; uid: number; socketPath: string };

export function socketOf(caller: Caller): GatewaySocket {
  return caller.kind === 'user'
    ? { kind: 'user', user: caller.user, path: caller.socketPath }
    : { kind: 'admin', path: caller.socketPath };
}

/** The name a caller's events carry. */
export function callerName(caller: Caller): string {
  return caller.kind === 'user' ? caller.user : 'root (admin socket)';
}
