import type { Decider } from '@ds01/event-store';
import type { EventOf } from '../events/defineEvent.ts';
import {
  type BareMetalPolicy,
  type BareMetalPolicySource,
  HostGpuProcessDetected,
  HostGpuProcessEnded,
  HostGpuProcessStopDecided,
  HostGpuProcessWarned,
  type hostProcessEvents,
  UnattributedGpuProcess,
} from './events.ts';

/** A GPU process outside any container, as the sampler saw it this cycle. */
export interface ObservedHostProcess {
  pid: number;
  processKey: string;
  uid: number | null;
  /** null: nobody explains it (unattributed). */
  user: string | null;
  command: string;
  gpuUuid: string;
  slot: string | null;
  usedMemoryMiB: number | null;
  /** For an attributed process: what the bare-metal policy says now (it can change: a grant). */
  policy: BareMetalPolicy;
  policySource: BareMetalPolicySource;
  /** Why nobody explains it (for an unattributed process). */
  unattributedReason?: string;
}

export interface ObserveHostGpuProcesses {
  type: 'ObserveHostGpuProcesses';
  /** Every GPU process outside containers this cycle: one missing here has ended. */
  processes: readonly ObservedHostProcess[];
  /** Between the warning and SIGTERM, and between SIGTERM and SIGKILL. */
  graceMs: number;
  now: Date;
}

/** The service sent (or could not send) a decided signal. */
export interface RecordHostGpuProcessSignal {
  type: 'RecordHostGpuProcessSignal';
  processKey: string;
  signal: 'SIGTERM' | 'SIGKILL';
  outcome: 'sent' | 'gone' | 'failed';
  error: string | null;
  now: Date;
}

export type HostGpuProcessCommand = ObserveHostGpuProcesses | RecordHostGpuProcessSignal;
export type HostGpuProcessEvent = EventOf<(typeof hostProcessEvents)[number]>;

export interface TrackedProcess {
  pid: number;
  user: string | null;
  stopAt: string | null;
  /** Signals decided, and when each was sent (null: decided, not executed yet). */
  signals: Partial<Record<'SIGTERM' | 'SIGKILL', { decidedAt: string; sentAt: string | null }>>;
}

export interface HostGpuProcessState {
  /** Processes detected and not ended, by process key. */
  processes: ReadonlyMap<string, TrackedProcess>;
}

/** Signals decided but not yet executed: what the service must do (once each). */
export function pendingSignals(state: HostGpuProcessState) {
  return [...state.processes.entries()].flatMap(([processKey, process]) =>
    (['SIGTERM', 'SIGKILL'] as const)
      .filter((signal) => process.signals[signal] && process.signals[signal]!.sentAt === null)
      .map((signal) => ({ processKey, pid: process.pid, signal })),
  );
}

/**
 * Host GPU processes as state changes: detected (or unattributed) once per process, warned once when
 * the policy is warn or stop, SIGTERM decided once its grace after the warning is over and SIGKILL a
 * grace after SIGTERM was sent — while the policy still says stop (a grant given meanwhile spares
 * it) — and ended once it is no longer seen. The signals themselves are the service's to send; it
 * records each outcome, so none is sent twice.
 */
export function decideHostGpuProcesses(
  command: HostGpuProcessCommand,
  state: HostGpuProcessState,
): HostGpuProcessEvent[] {
  const at = command.now.toISOString();
  if (command.type === 'RecordHostGpuProcessSignal') {
    const process = state.processes.get(command.processKey);
    const decided = process?.signals[command.signal];
    if (!process || !decided || decided.sentAt !== null) return [];
    return [
      {
        type: 'HostGpuProcessSignalled',
        data: {
          pid: process.pid,
          processKey: command.processKey,
          signal: command.signal,
          outcome: command.outcome,
          error: command.error,
          at,
        },
      },
    ];
  }
  const events: HostGpuProcessEvent[] = [];
  const seen = new Set<string>();
  for (const observed of command.processes) {
    seen.add(observed.processKey);
    const ref = { pid: observed.pid, processKey: observed.processKey };
    const tracked = state.processes.get(observed.processKey);
    if (!tracked) {
      const onGpu = { gpuUuid: observed.gpuUuid, slot: observed.slot, usedMemoryMiB: observed.usedMemoryMiB };
      if (observed.user === null) {
        events.push(
          UnattributedGpuProcess({
            ...ref,
            uid: observed.uid,
            command: observed.command,
            ...onGpu,
            reason: observed.unattributedReason ?? 'no container and no user explains it',
            at,
          }),
        );
        continue;
      }
      events.push(
        HostGpuProcessDetected({
          ...ref,
          uid: observed.uid,
          user: observed.user,
          command: observed.command,
          ...onGpu,
          policy: observed.policy,
          policySource: observed.policySource,
          at,
        }),
      );
      if (observed.policy !== 'allow') {
        const stopAt =
          observed.policy === 'stop' ? new Date(command.now.getTime() + command.graceMs).toISOString() : null;
        events.push(
          HostGpuProcessWarned({ ...ref, user: observed.user, policy: observed.policy, stopAt, at }),
        );
      }
      continue;
    }
    if (observed.user === null || observed.policy !== 'stop' || tracked.stopAt === null) continue;
    const term = tracked.signals.SIGTERM;
    if (!term && command.now.getTime() >= Date.parse(tracked.stopAt)) {
      events.push(HostGpuProcessStopDecided({ ...ref, user: observed.user, signal: 'SIGTERM', at }));
    } else if (
      term?.sentAt &&
      !tracked.signals.SIGKILL &&
      command.now.getTime() >= Date.parse(term.sentAt) + command.graceMs
    ) {
      events.push(HostGpuProcessStopDecided({ ...ref, user: observed.user, signal: 'SIGKILL', at }));
    }
  }
  for (const [processKey, tracked] of state.processes) {
    if (!seen.has(processKey))
      events.push(HostGpuProcessEnded({ pid: tracked.pid, processKey, user: tracked.user, at }));
  }
  return events;
}

export function evolveHostGpuProcesses(
  state: HostGpuProcessState,
  event: HostGpuProcessEvent,
): HostGpuProcessState {
  const processes = new Map(state.processes);
  const { processKey } = event.data;
  const tracked = processes.get(processKey);
  switch (event.type) {
    case 'HostGpuProcessDetected':
    case 'UnattributedGpuProcess':
      processes.set(processKey, {
        pid: event.data.pid,
        user: event.type === 'HostGpuProcessDetected' ? event.data.user : null,
        stopAt: null,
        signals: {},
      });
      break;
    case 'HostGpuProcessWarned':
      if (tracked) processes.set(processKey, { ...tracked, stopAt: event.data.stopAt });
      break;
    case 'HostGpuProcessStopDecided':
      if (tracked)
        processes.set(processKey, {
          ...tracked,
          signals: { ...tracked.signals, [event.data.signal]: { decidedAt: event.data.at, sentAt: null } },
        });
      break;
    case 'HostGpuProcessSignalled': {
      const decided = tracked?.signals[event.data.signal];
      if (tracked && decided)
        processes.set(processKey, {
          ...tracked,
          // A signal that could not be sent counts as handled: it is recorded, never retried blindly.
          signals: { ...tracked.signals, [event.data.signal]: { ...decided, sentAt: event.data.at } },
        });
      break;
    }
    case 'HostGpuProcessEnded':
      processes.delete(processKey);
      break;
  }
  return { processes };
}

export const hostGpuProcessDecider: Decider<HostGpuProcessCommand, HostGpuProcessEvent, HostGpuProcessState> =
  {
    decide: decideHostGpuProcesses,
    evolve: evolveHostGpuProcesses,
    initialState: () => ({ processes: new Map() }),
  };
