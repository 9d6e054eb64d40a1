import type { LifecycleConfig } from '@ds01/config';
import {
  dueRetirement,
  type LifecycleCommand,
  type PendingRetirement,
  type RetirementOutcome,
} from '@ds01/domain';
import {
  type Actor,
  type EventStore,
  type FailureLogger,
  RepeatedFailureLog,
  silentLogger,
} from '@ds01/event-store';
import {
  type ActionResult,
  type DockerConnection,
  inspectContainer,
  removeContainer,
  stopContainer,
} from '@ds01/host';
import { decideLifecycle, type LifecycleReadModel, loadLifecycle } from '@ds01/lifecycle';

export interface EnforcerOptions {
  store: EventStore;
  /** The lifecycle read model (ds01d's projections connection). */
  lifecycle: LifecycleReadModel;
  connection: DockerConnection;
  host: string;
  config: LifecycleConfig;
  /** The clock (tests pass their own). */
  now?: () => Date;
  logger?: FailureLogger;
}

/**
 * Carries out the retirements the lifecycle decided, through Docker, each decision once:
 *
 * 1. a due retirement is taken in hand by appending RetirementStarted to its lifecycle stream with the
 *    stream's expected revision — a cancellation appended meanwhile (the container became active,
 *    an admin exempted it) makes the append fail, and the decision is read again;
 * 2. then Docker is told (stop with the container type's grace, remove if the decision says so);
 * 3. the outcome is recorded: ContainerRetired (a container already stopped or gone is an outcome,
 *    not an error), or RetirementFailed with the time of the next try (backoff doubling from
 *    lifecycle.retry_first_s up to retry_max_s; given up after max_attempts).
 *
 * A RetirementStarted without an outcome that this process does not have in hand is an attempt a
 * crash interrupted: the container is read, and what the attempt did is recorded (stopped or gone
 * since it began: ContainerRetired, resumed) — or, when it had not taken effect by the attempt's
 * own deadline (its grace plus docker_timeout_s: dockerd finishes a stop whose client died), the
 * attempt is recorded failed and the next one acts. Docker is never told twice what took effect once.
 * Dry run: logs what it would do, once per decision, and records nothing.
 */
export class Enforcer {
  readonly #options: EnforcerOptions;
  readonly #actor: Actor = { kind: 'service', name: 'enforcer' };
  readonly #logger: FailureLogger;
  readonly #inHand = new Set<string>();
  readonly #dryRunSaid = new Set<string>();
  readonly #failures: RepeatedFailureLog;
  #round: Promise<void> | undefined;

  constructor(options: EnforcerOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#failures = new RepeatedFailureLog({
      logger: this.#logger,
      what: 'could not carry out due retirements',
      retryEveryMs: options.config.tick_s * 1000,
    });
  }

  #now(): Date {
    return this.#options.now?.() ?? new Date();
  }

  /** One look at every pending retirement (what the timer does); concurrent calls share one round. */
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
    const work: Promise<void>[] = [];
    for (const row of this.#options.lifecycle.pending()) {
      const p = row.state.pending;
      if (!p || this.#inHand.has(p.retirementId)) continue;
      if (p.executing) work.push(this.#guard(p.retirementId, () => this.#resume(row.container_id)));
      else if (dueRetirement(row.state, this.#now(), this.#options.config.usage_stale_after_m * 60_000))
        work.push(this.#guard(p.retirementId, () => this.#execute(row.container_id, p)));
    }
    await Promise.all(work);
  }

  async #guard(retirementId: string, run: () => Promise<void>): Promise<void> {
    this.#inHand.add(retirementId);
    try {
      await run();
    } finally {
      this.#inHand.delete(retirementId);
    }
  }

  #decide(containerId: string, command: LifecycleCommand) {
    const { store, lifecycle, host } = this.#options;
    return decideLifecycle(store, lifecycle, containerId, command, { actor: this.#actor, host });
  }

  async #execute(containerId: string, pending: PendingRetirement): Promise<void> {
    const name = `${containerId.slice(0, 12)} (${pending.reason}: ${pending.action})`;
    if (this.#options.config.dry_run) {
      if (!this.#dryRunSaid.has(pending.retirementId)) {
        this.#dryRunSaid.add(pending.retirementId);
        this.#logger.info(
          { containerId, retirementId: pending.retirementId, reason: pending.reason, action: pending.action },
          `dry run: would ${pending.action.replaceAll('_', ' ')} container ${name}`,
        );
      }
      return;
    }
    const started = await this.#decide(containerId, {
      type: 'StartRetirement',
      now: this.#now(),
      retirementId: pending.retirementId,
    });
    if (started.events.length === 0) return; // cancelled, or taken in hand, since the read model said due
    let outcome: RetirementOutcome;
    try {
      outcome = await this.#act(containerId, pending);
    } catch (error) {
      await this.#failed(containerId, pending.retirementId, started.state.pending!.attempts, error);
      return;
    }
    await this.#decide(containerId, {
      type: 'CompleteRetirement',
      now: this.#now(),
      retirementId: pending.retirementId,
      outcome,
      resumed: false,
    });
    this.#logger.info(
      { containerId, reason: pending.reason, outcome },
      `retired container ${name}: ${outcome}`,
    );
  }

  async #act(containerId: string, pending: PendingRetirement): Promise<RetirementOutcome> {
    const { connection, config } = this.#options;
    const timeoutMs = config.docker_timeout_s * 1000;
    const stop = () => stopContainer(connection, containerId, pending.graceSeconds, timeoutMs);
    const remove = () => removeContainer(connection, containerId, timeoutMs);
    const outcomes: Record<ActionResult, RetirementOutcome> = {
      done: pending.action === 'remove' ? 'removed' : 'stopped',
      already: 'already_stopped',
      gone: 'already_gone',
    };
    switch (pending.action) {
      case 'stop':
        return outcomes[await stop()];
      case 'remove':
        return outcomes[await remove()];
      case 'stop_and_remove': {
        const stopped = await stop();
        if (stopped === 'gone') return 'already_gone';
        const removed = await remove();
        if (removed === 'gone') return 'already_gone';
        return stopped === 'done' ? 'stopped_and_removed' : 'removed';
      }
    }
  }

  async #failed(containerId: string, retirementId: string, attempt: number, error: unknown): Promise<void> {
    const { config } = this.#options;
    const now = this.#now();
    const delayS = Math.min(config.retry_max_s, config.retry_first_s * 2 ** (attempt - 1));
    const retryAt = attempt >= config.max_attempts ? null : new Date(now.getTime() + delayS * 1000);
    const message = (error as Error)?.message ?? String(error);
    await this.#decide(containerId, { type: 'FailRetirement', now, retirementId, error: message, retryAt });
    const level = retryAt ? 'warn' : 'error';
    this.#logger[level](
      { containerId, retirementId, attempt, retryAt: retryAt?.toISOString() ?? null, err: message },
      retryAt
        ? `retirement of ${containerId.slice(0, 12)} failed (attempt ${attempt}); trying again at ${retryAt.toISOString()}`
        : `retirement of ${containerId.slice(0, 12)} failed ${attempt} times: given up; see \`ds01 lifecycle\` and retire it by hand`,
    );
  }

  /** An attempt in hand when the enforcer stopped (crashed): record what it did, or that it did nothing. */
  async #resume(containerId: string): Promise<void> {
    const { store, lifecycle, connection } = this.#options;
    const { state } = await loadLifecycle(store, lifecycle, containerId);
    const p = state.pending;
    if (!p?.executing) return;
    const since = Date.parse(p.executing.startedAt);
    const inspect = await inspectContainer(connection, containerId);
    const complete = (outcome: RetirementOutcome) =>
      this.#decide(containerId, {
        type: 'CompleteRetirement',
        now: this.#now(),
        retirementId: p.retirementId,
        outcome,
        resumed: true,
      });
    if (!inspect) {
      await complete(p.action === 'stop' ? 'already_gone' : 'removed');
      return;
    }
    const running = inspect.State.Running || inspect.State.Paused;
    const stoppedByAttempt = !running && Date.parse(inspect.State.FinishedAt) >= since - 1000;
    if (p.action === 'stop' && !running) {
      await complete(stoppedByAttempt ? 'stopped' : 'already_stopped');
      return;
    }
    if (p.action === 'stop_and_remove' && !running) {
      // The stop took effect; the removal had not: finish the decision's second step.
      const removed = await removeContainer(
        connection,
        containerId,
        this.#options.config.docker_timeout_s * 1000,
      );
      await complete(
        removed === 'gone' ? 'already_gone' : stoppedByAttempt ? 'stopped_and_removed' : 'removed',
      );
      return;
    }
    // dockerd carries out a stop whose client went away (SIGTERM, the grace, SIGKILL): until the
    // attempt's own deadline has passed, it may still be taking effect, and a second stop now would
    // be a second action. Look again next round.
    const deadline = since + (p.graceSeconds + this.#options.config.docker_timeout_s) * 1000;
    if (p.action !== 'remove' && this.#now().getTime() < deadline) return;
    await this.#failed(
      containerId,
      p.retirementId,
      p.executing.attempt,
      new Error(
        'the enforcer stopped before its attempt took effect (the container is still there): tried again',
      ),
    );
  }
}
