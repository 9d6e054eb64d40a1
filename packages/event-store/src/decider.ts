/** An event as the domain sees it: its type and data, without log positions or metadata. */
export interface DomainEvent<Type extends string = string, Data = unknown> {
  type: Type;
  data: Data;
}

/**
 * Pure domain logic for one consistency boundary (one stream): given the current state, a command
 * decides which events happen; evolve folds an event into the state. No I/O, no clock: time comes
 * in with the command (metadata.now), which is what lets tests control it.
 */
export interface Decider<Command, Event extends DomainEvent, State> {
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
  initialState(): State;
}
