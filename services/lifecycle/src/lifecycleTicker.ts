import type { LifecycleConfig } from '@ds01/config';
import { idleStretch, type LifecycleState, type LifecycleTick } from '@ds01/domain';
import {
  type Actor,
  type EventStore,
  type FailureLogger,
  RepeatedFailureLog,
  silentLogger,
} from '@ds01/event-store';
import { type DockerConnection, statContainerPath } from '@ds01/host';
import {
  decideLifecycle,
  type LifecyclePolicySource,
  type LifecycleReadModel,
  policyFactsOf,
  type RowReader,
} from '@ds01/lifecycle';

export const KEEP_ALIVE_PATH = '/workspace/.keep-alive';

export interface LifecycleTickerOptions {
  store: EventStore;
  lifecycle: LifecycleReadModel;
  /** The projections database, for the owners' departures and the GPU pool's demand. */
  projections: RowReader;
  policy: LifecyclePolicySource;
  /** Where keep-alive files are read (null: none are, e.g. no Docker). */
  connection: DockerConnection | null;
  host: string;
  config: LifecycleConfig;
  now?: () => Date;
  logger?: FailureLogger;
}

/**
 * The lifecycle's clock: every tick (lifecycle.tick_s, shorter than a usage window, so a container is
 * recorded idle and warned within one window of the moment it crosses its threshold), each container
 * the read model knows — started through DS01 or not, the read model has them all — gets a
 * LifecycleTick with its rules, the GPUs' demand, its keep-alive file and its owner's departure, and
 * the decision is recorded on its lifecycle stream.
 */
export class LifecycleTicker {
  readonly #options: LifecycleTickerOptions;
  readonly #actor: Actor = { kind: 'service', name: 'lifecycle' };
  readonly #logger: FailureLogger;
  readonly #failures: RepeatedFailureLog;
  #round: Promise<void> | undefined;

  constructor(options: LifecycleTickerOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#failures = new RepeatedFailureLog({
      logger: this.#logger,
      what: 'could not record lifecycle decisions',
      retryEveryMs: options.config.tick_s * 1000,
    });
  }

  /** One tick of every container; concurrent calls share the round. Never throws. */
  runOnce(): Promise<void> {
    this.#round ??= this.#runRound()
      .then(() => this.#failures.recovered())
      .catch((error: unknown) => this.#failures.failed(error))
      .finally(() => {
        this.#round = undefined;
      });
    return this.#round;
  }

  async #runRound(): Promise<void> {
    const { store, lifecycle, host } = this.#options;
    const now = this.#options.now?.() ?? new Date();
    const highDemand = this.#highDemand();
    for (const row of lifecycle.live()) {
      const state = row.state;
      if (state.status === 'unknown') continue;
      const policy = this.#options.policy.policyFor(policyFactsOf(state), now);
      const command: LifecycleTick = {
        type: 'LifecycleTick',
        now,
        policy,
        highDemand,
        keepAlive: await this.#keepAlive(state, policy),
        ownerDepartedAt: this.#departedAt(state.user),
      };
      const { events } = await decideLifecycle(store, lifecycle, row.container_id, command, {
        actor: this.#actor,
        host,
      });
      for (const event of events) {
        this.#logger.info(
          { containerId: row.container_id, event: event.type, user: state.user },
          `lifecycle: ${event.type} ${state.name || row.container_id.slice(0, 12)}`,
        );
      }
    }
  }

  /** Read only for a container that is idle and could be retired for it: one Docker call, with a deadline. */
  async #keepAlive(
    state: LifecycleState,
    policy: LifecycleTick['policy'],
  ): Promise<LifecycleTick['keepAlive']> {
    const { connection, config } = this.#options;
    if (!connection || state.status !== 'running' || policy.idleTimeoutMinutes === null) return null;
    if (!idleStretch(state, policy)) return null;
    try {
      const stat = await statContainerPath(
        connection,
        state.containerId,
        KEEP_ALIVE_PATH,
        config.docker_timeout_s * 1000,
      );
      return stat ? { modifiedAt: stat.modifiedAt } : null;
    } catch (error) {
      // Unknown is not "no file": keep the container this tick rather than retire it on a failed read.
      this.#logger.warn(
        { containerId: state.containerId, err: (error as Error).message },
        'could not read the keep-alive file',
      );
      return { modifiedAt: (this.#options.now?.() ?? new Date()).toISOString() };
    }
  }

  #departedAt(user: string | null): string | null {
    if (!user) return null;
    const rows = this.#options.projections.rows(
      'SELECT departed_at FROM lifecycle_departures WHERE user = ?',
      user,
    ) as { departed_at: string }[];
    return rows[0]?.departed_at ?? null;
  }

  /** high_demand_threshold of the host's GPU slots held (allocated or on hold). */
  #highDemand(): boolean {
    const { projections, host, policy } = this.#options;
    const [counts] = projections.rows(
      `SELECT (SELECT COUNT(*) FROM gpu_pool_slots WHERE host = ?) AS total,
              (SELECT COUNT(DISTINCT slot) FROM gpu_holdings WHERE host = ?) AS held`,
      host,
      host,
    ) as { total: number; held: number }[];
    if (!counts || counts.total === 0) return false;
    return counts.held / counts.total >= policy.highDemandThreshold();
  }
}
