import type { EventStore, FailureLogger } from '@ds01/event-store';
import type { ProjectionRunner } from '@ds01/projections';

/**
 * A timer's round that decides on read models caught up with the log as it was when the round began
 * (what the service itself appended last round included). A round still waiting or running when the
 * timer fires again is not doubled (a projection that stopped would otherwise pile up waiters), and a
 * failure is logged, never thrown into the timer. stop() waits for a round in progress, never for a
 * catch-up (a stopped projection must not hold up ds01d's shutdown). With `ready` (ds01d's
 * 'docker-reconciled' milestone) no round runs before it: after a restart, what containers did while
 * ds01d was down is on the log only once the docker watcher has reconciled.
 */
export function caughtUpRounds(
  store: EventStore,
  runner: Pick<ProjectionRunner, 'waitFor'>,
  round: () => Promise<void>,
  logger: FailureLogger,
  what: string,
  ready?: Promise<void>,
): { run(): Promise<void>; stop(): Promise<void> } {
  let current: Promise<void> | undefined;
  let inRound: Promise<void> | undefined;
  let stopped = false;
  const run = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    current ??= (async () => {
      await ready;
      if (stopped) return;
      await runner.waitFor(await store.headPosition());
      if (stopped) return;
      inRound = round();
      await inRound;
    })()
      .catch((error: unknown) => logger.warn({ err: (error as Error)?.message ?? String(error) }, what))
      .finally(() => {
        current = undefined;
        inRound = undefined;
      });
    return current;
  };
  // Stopping waits for a round in progress (its Docker calls have deadlines), never for a catch-up.
  const stop = async () => {
    stopped = true;
    await inRound?.catch(() => {});
  };
  return { run, stop };
}
