import type { DatabaseSync } from 'node:sqlite';
import type { Ds01Config, Ds01Paths } from '@ds01/config';
import type { EventStore } from '@ds01/event-store';
import type { ProjectionRunner } from '@ds01/projections';
import type { Logger } from 'pino';
import type { HealthBoard } from './healthBoard.ts';
import type { Milestones } from './milestones.ts';

/** What ds01d hands every service when it starts it. */
export interface ServiceContext {
  /** The event store, writable. Shared by every service: do not close it. */
  store: EventStore;
  /** A logger whose lines carry `service: <name>`. */
  logger: Logger;
  config: Ds01Config;
  paths: Ds01Paths;
  projections: {
    /** Keeps every read model up to date; already caught up when services start. */
    runner: ProjectionRunner;
    /** The projections database (read models + checkpoints), on ds01d's connection. */
    db: DatabaseSync;
  };
  /** Where a service reports its health for the exporter (ds01d always gives one). */
  health?: HealthBoard;
  /** Moments services wait for in one another (ds01d always gives them; see Milestones). */
  milestones?: Milestones;
}

/** A running service, as its start() returns it. */
export interface RunningService {
  /** Stops the service and releases what it holds; ds01d awaits it (in reverse start order). */
  stop(): Promise<void>;
}

/**
 * A long-running part of ds01d (docker watcher, GPU sampler, policy watcher ...). start() resolves
 * once the service is running; throwing there stops ds01d's start-up with the error.
 */
export interface Service {
  name: string;
  start(context: ServiceContext): Promise<RunningService>;
}
