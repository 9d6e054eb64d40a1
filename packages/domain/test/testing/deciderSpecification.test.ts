import { AssertionError } from 'node:assert';
import type { Decider } from '@ds01/event-store';
import { describe, expect, it } from 'vitest';
import { DeciderSpecification } from '../../src/testing/deciderSpecification.ts';

/** A counter that refuses to go below zero: the smallest decider with events, state and an error. */
type CounterEvent = { type: 'Incremented'; data: { by: number } };
type CounterCommand = { type: 'Add'; by: number };
class NegativeError extends Error {}
const counter: Decider<CounterCommand, CounterEvent, number> = {
  initialState: () => 0,
  evolve: (n, e) => n + e.data.by,
  decide: (c, n) => {
    if (n + c.by < 0) throw new NegativeError(`would be ${n + c.by}`);
    return c.by === 0 ? [] : [{ type: 'Incremented', data: { by: c.by } }];
  },
};
const spec = DeciderSpecification.for(counter);
const inc = (by: number): CounterEvent => ({ type: 'Incremented', data: { by } });

describe('DeciderSpecification', () => {
  it('passes when the decided events are the expected ones', () => {
    spec
      .given([inc(2)])
      .when({ type: 'Add', by: -1 })
      .then([inc(-1)]);
    spec.given([]).when({ type: 'Add', by: 0 }).thenNothingHappened();
    spec
      .given([inc(1)])
      .when({ type: 'Add', by: -2 })
      .thenThrows(NegativeError, (e) => e.message === 'would be -1');
  });

  it('folds the given events into the state the decision sees', () => {
    spec
      .given([inc(2), inc(3)])
      .when({ type: 'Add', by: 1 })
      .thenEvents((_events, state) => expect(state).toBe(5));
  });

  it('fails when the events differ, when something happened, or when nothing (or another error) was thrown', () => {
    expect(() =>
      spec
        .given([])
        .when({ type: 'Add', by: 1 })
        .then([inc(2)]),
    ).toThrow(AssertionError);
    expect(() => spec.given([]).when({ type: 'Add', by: 1 }).thenNothingHappened()).toThrow(AssertionError);
    expect(() => spec.given([]).when({ type: 'Add', by: 1 }).thenThrows(NegativeError)).toThrow(
      /produced 1 event/,
    );
    expect(() => spec.given([]).when({ type: 'Add', by: -1 }).thenThrows(RangeError)).toThrow(
      /expected RangeError/,
    );
    expect(() =>
      spec
        .given([])
        .when({ type: 'Add', by: -1 })
        .thenThrows(NegativeError, () => false),
    ).toThrow(/does not pass the check/);
  });
});
