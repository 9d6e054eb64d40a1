import type { ContainerEvent } from '@ds01/domain';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { containerShape, historyOf, MS } from './containerHistories.ts';
import { stateAt } from './dockerModel.ts';
import { ModelWatcher, type RoundPlan } from './watcherProtocol.ts';

/**
 * Exactly once, as a property: for generated container histories (quick exits, restarts, pauses,
 * removals) and generated rounds of the watcher (crashes after any append, downtime, slow delivery,
 * slow inspects, Docker's ring of recent events overflowing), after a last round that runs to the end:
 * - no change of status is on the log twice (never more starts, stops, ... than Docker made);
 * - each container's final status on the log is Docker's;
 * - when no event was lost (to Docker's ring while DS01 was away, or by arriving only after DS01 had read
 *   the container past it), every change is on the log exactly once.
 */

const roundPlan = (final: boolean): fc.Arbitrary<RoundPlan> =>
  fc.record({
    downtime: fc.integer({ min: 0, max: 300 * MS }),
    // Up to well inside the containers' lives, so that reads meet them starting and stopping.
    listDelay: fc.integer({ min: 0, max: 200 * MS }),
    delays: fc.array(fc.oneof(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 0, max: 30 * MS })), {
      minLength: 1,
      maxLength: 8,
    }),
    inspectTimes: fc.array(fc.integer({ min: 0, max: 20 * MS }), { minLength: 1, maxLength: 4 }),
    interleave: fc.array(fc.nat(), { minLength: 1, maxLength: 6 }),
    crashAfter: final ? fc.constant(undefined) : fc.integer({ min: 1, max: 12 }),
  });

const scenario = fc.record({
  containers: fc.array(containerShape, { minLength: 1, maxLength: 4 }),
  /** When the first round subscribes (µs; before everything: nothing to lose). */
  firstStart: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 400 * MS })),
  /** How long before that ds01d's process started (µs): its first replay reaches back to there. */
  startedBefore: fc.integer({ min: 0, max: 400 * MS }),
  crashes: fc.array(roundPlan(false), { maxLength: 4 }),
  last: roundPlan(true),
});

/** DS01_PROPERTY_RUNS=100000 for a long search (about 5 minutes). */
const RUNS = Number(process.env.DS01_PROPERTY_RUNS ?? 400);

const STATUS = {
  ContainerCreated: 'create',
  ContainerStarted: 'start',
  ContainerStopped: 'die',
  ContainerPaused: 'pause',
  ContainerUnpaused: 'unpause',
  ContainerRemoved: 'destroy',
} as const;

function transitions(stream: ContainerEvent[]): string[] {
  return stream.flatMap((e) => (e.type in STATUS ? [STATUS[e.type as keyof typeof STATUS]] : []));
}

function count(items: readonly string[], item: string): number {
  return items.filter((i) => i === item).length;
}

describe('the watcher records every Docker transition exactly once', () => {
  it(
    'whatever the interleaving of replay, reconciliation, live events and crashes',
    () => {
      fc.assert(
        fc.property(scenario, ({ containers, firstStart, startedBefore, crashes, last }) => {
          const histories = containers.map((shape, i) => historyOf(i, shape));
          const watcher = new ModelWatcher(histories, startedBefore);
          const end = Math.max(...histories.flatMap((h) => h.operations.map((o) => o.t)));
          let at = firstStart;
          let lossy = false;
          const late = new Set<string>();
          for (const [i, plan] of [...crashes, last].entries()) {
            if (i > 0) at += plan.downtime;
            const outcome = watcher.round(at, plan === last ? { ...plan, crashAfter: undefined } : plan);
            if (outcome.lostToRing > 0) lossy = true;
            for (const id of outcome.lateForSnapshot) late.add(id);
            if (outcome.crashedAt === undefined && plan !== last) {
              // It ran through every event without reaching its crash: the next round starts after it.
              at = Math.max(at, end) + 1;
            } else if (outcome.crashedAt !== undefined) {
              at = outcome.crashedAt;
            }
          }
          const finalTime = Number.MAX_SAFE_INTEGER;
          for (const history of histories) {
            const truth = history.operations.map((o) => o.action);
            const logged = transitions(watcher.log.streamOf(history.containerId));
            const context = `container ${history.name}: Docker ${truth.join(',')}; log ${logged.join(',')}`;
            for (const action of ['create', 'start', 'die', 'pause', 'unpause', 'destroy']) {
              expect(
                count(logged, action),
                `${context}: ${action} recorded more often than Docker did it`,
              ).toBeLessThanOrEqual(count(truth, action));
            }
            const docker = stateAt(history, finalTime);
            const logState = watcher.log.known().get(history.containerId);
            if (docker) {
              expect(logState?.status, `${context}: final status`).toBe(docker.status);
              expect(count(logged, 'create'), `${context}: its creation`).toBe(1);
            } else if (logState) {
              expect(logState.status, `${context}: final status`).toBe('removed');
            }
            // Everything Docker did after ds01d started is seen (its first replay reaches back to then).
            const first = Math.min(...history.operations.map((o) => o.t));
            const seenFromStart = firstStart < 0 || first >= firstStart - startedBefore;
            if (seenFromStart && !lossy && !late.has(history.containerId)) {
              expect(logged, `${context}: every transition once`).toEqual(truth);
            }
          }
        }),
        { numRuns: RUNS },
      );
    },
    30_000 + RUNS * 10,
  );
});
