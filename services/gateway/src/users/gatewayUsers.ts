import { effectiveLimits, type ResourceLimits } from '@ds01/config';
import type { RecordedEvent } from '@ds01/event-store';
import { lookupAccount } from '@ds01/host/accounts';
import { type ReadModel, UserRow } from '@ds01/projections';
import type { Logger } from 'pino';
import type { GatewaySocketUser } from '../sockets/gatewaySockets.ts';

/**
 * Who is registered: the users projection at start (`ds01 user add`), then UserRegistered and
 * UserDeparted as they are appended. `after` is the projection's position, so nothing appended
 * between reading it and subscribing is missed.
 */
export class RegisteredUsers {
  readonly #users = new Map<string, { group: string; departed: boolean }>();
  readonly after: number;

  constructor(readModel: ReadModel) {
    this.after = readModel.checkpoint('users')?.position ?? 0;
    const rows = readModel.query(
      UserRow,
      `SELECT user, uid, "group", registered_at, departed_at, departure_reason FROM users`,
    );
    for (const row of rows)
      this.#users.set(row.user, { group: row.group, departed: row.departed_at !== null });
  }

  apply(event: RecordedEvent): void {
    const data = event.data as { user: string; group?: string };
    if (event.type === 'UserRegistered') this.#users.set(data.user, { group: data.group!, departed: false });
    if (event.type === 'UserDeparted') {
      const known = this.#users.get(data.user);
      this.#users.set(data.user, { group: known?.group ?? '', departed: true });
    }
  }

  entries() {
    return this.#users.entries();
  }
}

/**
 * Who gets a socket: every user registered and not departed, and every member of a group of the
 * configuration (config/groups/*.members), each with a host account (getent with a deadline, the
 * name after `--`): the socket is chown-ed to its uid. A name the host does not know gets no socket,
 * and says so once.
 */
export async function gatewayUsers(options: {
  registered: RegisteredUsers;
  limits: ResourceLimits | null;
  logger: Logger;
  /** Names already warned about (kept by the caller between rounds). */
  warned: Set<string>;
}): Promise<GatewaySocketUser[]> {
  const { registered, limits, logger, warned } = options;
  const groups = new Map<string, string>();
  const departed = new Set<string>();
  for (const [name, user] of registered.entries()) {
    if (user.departed) departed.add(name);
    else groups.set(name, user.group);
  }
  for (const group of limits?.groups ?? []) {
    for (const member of group.members) {
      // A departure recorded in the log wins over a members file not yet edited.
      if (!groups.has(member) && !departed.has(member)) {
        groups.set(member, limits ? effectiveLimits(limits, member).group : group.name);
      }
    }
  }
  const users: GatewaySocketUser[] = [];
  for (const [name, group] of groups) {
    try {
      const account = await lookupAccount(name);
      if (account) {
        users.push({ name, uid: account.uid, gid: account.gid, group });
      } else if (!warned.has(name)) {
        warned.add(name);
        logger.warn(
          { user: name },
          'gateway: no host account of this name: no socket (create the account, or remove the name)',
        );
      }
    } catch (error) {
      logger.warn({ err: error, user: name }, 'gateway: could not look up a user; their socket waits');
    }
  }
  return users;
}
