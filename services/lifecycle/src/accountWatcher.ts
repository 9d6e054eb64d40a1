import { UserDeparted, userStream } from '@ds01/domain';
import { type Actor, type EventStore, type FailureLogger, newEventId, silentLogger } from '@ds01/event-store';
import { accountExists } from '@ds01/host';
import type { LifecycleReadModel, RowReader } from '@ds01/lifecycle';

export interface AccountWatcherOptions {
  store: EventStore;
  lifecycle: LifecycleReadModel;
  projections: RowReader;
  host: string;
  /** Whether the host has the account (default: getent with its deadline). */
  exists?: (user: string) => Promise<boolean | null>;
  now?: () => Date;
  logger?: FailureLogger;
}

/**
 * A user whose account is gone from the host (deleted, or dropped from the directory) has left the
 * lab: each owner of a container is asked of getent now and then, and one that getent says does not
 * exist (exit 2, not a timeout or a failing directory) is recorded UserDeparted. Their containers
 * then follow the departed-user rule (the lifecycle decides on the departure).
 */
export class AccountWatcher {
  readonly #options: AccountWatcherOptions;
  readonly #actor: Actor = { kind: 'service', name: 'lifecycle' };

  constructor(options: AccountWatcherOptions) {
    this.#options = options;
  }

  /** Checks every owner not departed; returns who was recorded departed. */
  async runOnce(): Promise<string[]> {
    const { store, lifecycle, projections, host } = this.#options;
    const exists = this.#options.exists ?? ((user: string) => accountExists(user));
    const logger = this.#options.logger ?? silentLogger;
    const departed = new Set(
      (projections.rows('SELECT user FROM lifecycle_departures') as { user: string }[]).map((r) => r.user),
    );
    const owners = new Set(
      lifecycle
        .live()
        .map((row) => row.state.user)
        .filter((u): u is string => u !== null && !departed.has(u)),
    );
    const gone: string[] = [];
    for (const user of [...owners].sort()) {
      const found = await exists(user);
      if (found !== false) continue;
      const now = this.#options.now?.() ?? new Date();
      const event = UserDeparted({
        user,
        reason: 'the account no longer exists on this host (getent passwd)',
      });
      await store.append(userStream(user), [
        {
          ...event,
          metadata: {
            eventId: newEventId(now.getTime()),
            occurredAt: now.toISOString(),
            actor: this.#actor,
            host,
            correlationId: newEventId(now.getTime()),
            causationId: null,
          },
        },
      ]);
      logger.warn({ user }, `user ${user}: account gone from the host, recorded as departed`);
      gone.push(user);
    }
    return gone;
  }
}
