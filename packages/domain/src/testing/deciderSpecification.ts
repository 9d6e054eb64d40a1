import { AssertionError, deepStrictEqual } from 'node:assert';
import type { Decider, DomainEvent } from '@ds01/event-store';

/**
 * Given/when/then specifications of a decider, after Emmett's DeciderSpecification:
 *
 *   const spec = DeciderSpecification.for(gpuPoolDecider);
 *   spec.given([GpuAllocated({...})]).when(releaseCommand).then([GpuReleased({...})]);
 *   spec.given([]).when(releaseCommand).thenThrows(NothingToReleaseError, (e) => e.target.slot === '0');
 *
 * `given` events are folded with evolve from the initial state, `when` runs decide, and `then` compares
 * the decided events (type and data) with the expected ones. Failures throw node's AssertionError, so it
 * works under any test runner. Not for production code: it lives in the domain so that every concept's
 * tests share it.
 */
export const DeciderSpecification = {
  for<Command, Event extends DomainEvent, State>(decider: Decider<Command, Event, State>) {
    return {
      given(events: readonly Event[]) {
        const state = events.reduce((s, e) => decider.evolve(s, e), decider.initialState());
        return {
          when(command: Command) {
            const decide = () => decider.decide(command, state);
            return {
              /** The decision produces exactly these events, in this order. */
              // biome-ignore lint/suspicious/noThenProperty: given/when/then is the API; this object is never awaited
              then(expected: readonly Event[]): void {
                deepStrictEqual(plain(decide()), plain(expected));
              },
              /** The decision produces no events. */
              thenNothingHappened(): void {
                deepStrictEqual(plain(decide()), []);
              },
              /** The decided events, for checks that are not an exact list (e.g. property tests). */
              thenEvents(check: (events: Event[], state: State) => void): void {
                check(decide(), state);
              },
              /** The decision throws an error of this class (and, when given, passing `check`). */
              thenThrows<E extends Error>(
                errorClass: abstract new (...args: never[]) => E,
                check?: (error: E) => boolean,
              ): void {
                let produced: Event[];
                try {
                  produced = decide();
                } catch (error) {
                  if (!(error instanceof errorClass)) {
                    throw new AssertionError({
                      message: `expected ${errorClass.name}, got ${String(error)}`,
                      actual: error,
                      expected: errorClass,
                    });
                  }
                  if (check && !check(error)) {
                    throw new AssertionError({
                      message: `${errorClass.name} thrown, but it does not pass the check: ${error.message}`,
                      actual: error,
                    });
                  }
                  return;
                }
                throw new AssertionError({
                  message: `expected ${errorClass.name}, but the decision produced ${produced.length} event(s)`,
                  actual: produced,
                });
              },
            };
          },
        };
      },
    };
  },
};

/** Type and data only, through JSON: what the store keeps of an event. */
function plain(events: readonly DomainEvent[]): unknown {
  return JSON.parse(JSON.stringify(events.map((e) => ({ type: e.type, data: e.data }))));
}
