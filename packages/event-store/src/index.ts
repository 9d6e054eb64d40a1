export type { EventCodec } from './codec.ts';
export { passthroughCodec } from './codec.ts';
export type { CommandContext, HandleResult, SnapshotPolicy } from './commandHandler.ts';
export { CommandHandler } from './commandHandler.ts';
export type { Decider, DomainEvent } from './decider.ts';
export type {
  Actor,
  AppendResult,
  EventMetadata,
  EventMetadataInput,
  ExpectedRevision,
  NewEvent,
  RecordedEvent,
} from './envelope.ts';
export { ActorSchema, EventMetadataInputSchema, EventMetadataSchema, InstantSchema } from './envelope.ts';
export {
  EventIdConflictError,
  EventSchemaError,
  EventStoreError,
  StoreClosedError,
  StoreUnavailableError,
  type StoreUnavailableReason,
  WrongExpectedRevisionError,
} from './errors.ts';
export { eventIdFor, newEventId } from './eventId.ts';
export type {
  EventFilter,
  EventStore,
  ReadAllOptions,
  ReadStreamOptions,
  StoreInfo,
  StreamAppend,
  SubscribeOptions,
  Subscription,
} from './eventStore.ts';
// The EventStoreDB adapter is reached through openEventStore (loaded on demand), or imported from
// './eventstoredb/eventStoreDbEventStore.ts' directly.
export type { EventStoreDbEventStoreOptions } from './eventstoredb/eventStoreDbEventStore.ts';
export { checkExpectedRevision, satisfiesExpected } from './expectedRevision.ts';
export { type OpenEventStoreOptions, openEventStore } from './openEventStore.ts';
// The PostgreSQL adapter too is reached through openEventStore (loading `pg` costs every `ds01` command
// ~50 ms), or imported from './postgres/postgresEventStore.ts' directly.
export type { PostgresEventStoreOptions } from './postgres/postgresEventStore.ts';
export {
  type FailureLogger,
  RepeatedFailureLog,
  type RepeatedFailureLogOptions,
  silentLogger,
} from './retry/repeatedFailureLog.ts';
// For other SQLite files beside the log (the projections database): the same errors, said the same way.
export { whoMayRead, whyUnreachable } from './sqlite/fileAccess.ts';
export { asStoreError } from './sqlite/sqliteErrors.ts';
export { SqliteEventStore, type SqliteEventStoreOptions } from './sqlite/sqliteEventStore.ts';
export {
  copyStoreFile,
  inspectStoreFile,
  type StoreFileSummary,
} from './sqlite/storeCopy.ts';
export { replaceStoreFile, type StoreReplacement } from './sqlite/storeRestore.ts';
export {
  checkpointFindings,
  type FindingKind,
  type StoreFinding,
  type StoreVerification,
  verifyStoreFile,
} from './sqlite/storeVerification.ts';
