import {
  type BareMetalRules,
  bareMetalPolicyFor,
  type HostGpuProcessCommand,
  type HostGpuProcessEvent,
  type HostGpuProcessState,
  hostGpuProcessDecider,
  hostGpuProcessStream,
  type ObservedHostProcess,
  pendingSignals,
  type UserDirectory,
} from '@ds01/domain';
import { CommandHandler, type EventStore, RepeatedFailureLog } from '@ds01/event-store';
import {
  containerIdOfCgroup,
  type GpuProcess,
  processKeyOf,
  readProcessInfo,
  signalProcess,
} from '@ds01/host';
import type { GpuProcessWatch, SamplerLogger } from '../gpuSampler.ts';
import type { ProcessOwner } from '../usage/gpuSampleOf.ts';

export interface HostGpuProcessWatchOptions {
  store: EventStore;
  host: string;
  logger: SamplerLogger;
  /** Between the warning and SIGTERM, and between SIGTERM and SIGKILL. */
  graceMs: number;
  /** The rules now (config, exemptions, grants: re-read each cycle, so a grant takes effect at once). */
  rules: () => Promise<BareMetalRules>;
  /** The user's DS01 group(s), for the per-group policy. */
  groupsOf: (user: string) => readonly string[];
  /** The owner of a container, per the containers projection (null: unknown or unowned). */
  containerOwner: (containerId: string) => string | null;
  /** Resolves uids to accounts (getent, with a deadline). */
  users: {
    resolve(candidates: { names: readonly string[]; uids: readonly number[] }): Promise<UserDirectory>;
  };
  /** /proc of this host (tests may point elsewhere). */
  procRoot?: string;
}

const ACTOR = { kind: 'service', name: 'gpu-sampler' } as const;
/** A command line is recorded up to this long (an argument list can be megabytes). */
const MAX_COMMAND_CHARS = 4096;

/**
 * Attributes every GPU process: through /proc/<pid>/cgroup to a container (and its owner), else
 * through /proc/<pid>/status to a host user, else it is unattributed. Host processes go through the
 * host-gpu-process decider (detected, warned, stopped, ended, on host-gpu-processes-<host>); the
 * signals it decides are sent here, each once, and their outcome recorded. Returns each pid's owner
 * for the usage windows.
 */
export class HostGpuProcessWatch implements GpuProcessWatch {
  readonly #options: HostGpuProcessWatchOptions;
  readonly #handler: CommandHandler<HostGpuProcessCommand, HostGpuProcessEvent, HostGpuProcessState>;
  readonly #stream: string;
  readonly #storeFailures: RepeatedFailureLog;

  constructor(options: HostGpuProcessWatchOptions) {
    this.#options = options;
    this.#handler = new CommandHandler(options.store, hostGpuProcessDecider);
    this.#stream = hostGpuProcessStream(options.host);
    this.#storeFailures = new RepeatedFailureLog({
      logger: options.logger,
      what: 'could not record host GPU processes in the event store',
      retryEveryMs: options.graceMs,
    });
  }

  async observe(processes: readonly GpuProcess[], now: Date): Promise<ReadonlyMap<number, ProcessOwner>> {
    const { procRoot } = this.#options;
    const owners = new Map<number, ProcessOwner>();
    const onHost: {
      process: GpuProcess;
      key: string;
      uid: number | null;
      command: string;
      problem?: string;
    }[] = [];
    const seen = new Set<number>();
    for (const process of processes) {
      if (seen.has(process.pid)) continue;
      seen.add(process.pid);
      const info = await readProcessInfo(process.pid, procRoot).catch((error: unknown) => {
        onHost.push({
          process,
          key: `${process.pid}:?`,
          uid: null,
          command: process.name,
          problem: String(error),
        });
        return undefined;
      });
      if (info === undefined) continue;
      if (info === null) {
        onHost.push({
          process,
          key: `${process.pid}:?`,
          uid: null,
          command: process.name,
          problem: `/proc/${process.pid} cannot be read (ended, or in a pid namespace DS01 cannot see)`,
        });
        continue;
      }
      const containerId = containerIdOfCgroup(info.cgroup);
      if (containerId) {
        owners.set(process.pid, { containerId, user: this.#options.containerOwner(containerId) });
        continue;
      }
      onHost.push({
        process,
        key: processKeyOf(info),
        uid: info.uid,
        command: clipped(info.commandLine || process.name),
      });
    }
    // Accounts and rules are read only when there is a host process to judge (most cycles have none).
    const uids = onHost.flatMap((entry) => (entry.uid === null ? [] : [entry.uid]));
    const directory = uids.length > 0 ? await this.#options.users.resolve({ names: [], uids }) : null;
    const rules = uids.length > 0 ? await this.#options.rules() : null;
    const observed = onHost.map((entry): ObservedHostProcess => {
      const user = entry.uid === null ? null : (directory?.byUid(entry.uid)?.name ?? null);
      if (user !== null) owners.set(entry.process.pid, { containerId: null, user });
      const { policy, source } =
        user === null || rules === null
          ? { policy: 'allow' as const, source: 'default' as const }
          : bareMetalPolicyFor(user, this.#options.groupsOf(user), rules, now);
      return {
        pid: entry.process.pid,
        processKey: entry.key,
        uid: entry.uid,
        user,
        command: entry.command,
        gpuUuid: entry.process.migUuid ?? entry.process.gpuUuid,
        slot: entry.process.slot,
        usedMemoryMiB: entry.process.usedMemoryMiB,
        policy,
        policySource: source,
        ...(user === null
          ? { unattributedReason: entry.problem ?? `uid ${entry.uid} has no account on this host` }
          : {}),
      };
    });
    try {
      const { events, state } = await this.#handle({
        type: 'ObserveHostGpuProcesses',
        processes: observed,
        graceMs: this.#options.graceMs,
        now,
      });
      this.#log(events);
      await this.#sendPending(state, now);
      this.#storeFailures.recovered({ stream: this.#stream });
    } catch (error) {
      // Nothing decided is lost: the next cycle decides again from the stream.
      this.#storeFailures.failed(error, { stream: this.#stream });
    }
    return owners;
  }

  /** Sends each decided signal not yet sent (also those a crash left decided but unrecorded), once. */
  async #sendPending(state: HostGpuProcessState, now: Date): Promise<void> {
    for (const pending of pendingSignals(state)) {
      let outcome: 'sent' | 'gone' | 'failed';
      let error: string | null = null;
      try {
        outcome = await signalProcess(pending.processKey, pending.signal, this.#options.procRoot);
      } catch (failure) {
        outcome = 'failed';
        error = failure instanceof Error ? failure.message : String(failure);
      }
      const { events } = await this.#handle({
        type: 'RecordHostGpuProcessSignal',
        processKey: pending.processKey,
        signal: pending.signal,
        outcome,
        error,
        now,
      });
      this.#log(events);
    }
  }

  #handle(command: HostGpuProcessCommand) {
    return this.#handler.handle(this.#stream, command, {
      actor: ACTOR,
      host: this.#options.host,
      now: command.now,
    });
  }

  #log(events: readonly HostGpuProcessEvent[]): void {
    const { logger } = this.#options;
    for (const event of events) {
      const { data } = event;
      switch (event.type) {
        case 'HostGpuProcessDetected':
          logger.info(
            {
              pid: data.pid,
              user: event.data.user,
              policy: event.data.policy,
              source: event.data.policySource,
            },
            `GPU process on the host: pid ${data.pid} of ${event.data.user} (${event.data.command}), policy ${event.data.policy}`,
          );
          break;
        case 'UnattributedGpuProcess':
          logger.warn(
            { pid: data.pid, reason: event.data.reason },
            `GPU process nobody explains: pid ${data.pid} (${event.data.command}): ${event.data.reason}`,
          );
          break;
        case 'HostGpuProcessSignalled':
          logger.info(
            {
              pid: data.pid,
              signal: event.data.signal,
              outcome: event.data.outcome,
              error: event.data.error,
            },
            `host GPU process ${data.pid}: ${event.data.signal} ${event.data.outcome}`,
          );
          break;
        default:
          logger.debug({ pid: data.pid, event: event.type }, `host GPU process ${data.pid}: ${event.type}`);
      }
    }
  }
}

function clipped(command: string): string {
  return command.length > MAX_COMMAND_CHARS ? `${command.slice(0, MAX_COMMAND_CHARS)}…` : command;
}
