export * from './catalog.ts';
export * from './containers/events.ts';
export { EventCatalog } from './events/catalog.ts';
export { defineEvent, type EventDefinition, type EventOf, type Upcasters } from './events/defineEvent.ts';
export * from './gpu/events.ts';
export * from './hostProcesses/events.ts';
export * from './policy/events.ts';
export * from './users/events.ts';
export * from './values.ts';
