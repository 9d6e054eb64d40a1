import { ContainerActiveAgain, ContainerIdle } from '../containers/events.ts';
import type { EventOf } from '../events/defineEvent.ts';
import { lastActiveEnd } from './activity.ts';
import type {
  CompleteRetirement,
  ExemptContainer,
  ExtendLifecycle,
  FailRetirement,
  LifecycleCommand,
  LifecycleTick,
  RetireContainer,
  StartRetirement,
} from './commands.ts';
import { LifecycleError } from './errors.ts';
import {
  ContainerRetired,
  LifecycleExemptionGranted,
  LifecycleExtended,
  RetirementCancelled,
  RetirementFailed,
  RetirementPostponed,
  RetirementScheduled,
  RetirementStarted,
  RetirementWarned,
} from './events.ts';
import { idleStretch } from './idleness.ts';
import {
  evolveLifecycle,
  initialLifecycleState,
  type LifecycleEvent,
  type LifecycleState,
  type PendingRetirement,
} from './lifecycleState.ts';
import { type WantedRetirement, wantedRetirement } from './retirementRules.ts';

const MINUTE = 60_000;

type Cancellation = EventOf<typeof RetirementCancelled>['data']['why'];

/** The events a lifecycle decision appends (to `lifecycle-<id>`, ContainerIdle/ActiveAgain included). */
export type LifecycleDecision = LifecycleEvent;

/** Folds decided events into the state as they are decided, so later steps see earlier ones. */
class Decision {
  readonly events: LifecycleDecision[] = [];
  state: LifecycleState;
  constructor(state: LifecycleState) {
    this.state = state;
  }
  push(event: LifecycleDecision): void {
    this.events.push(event);
    this.state = evolveLifecycle(this.state, event);
  }
}

function cancel(d: Decision, pending: PendingRetirement, why: Cancellation, detail: string): void {
  d.push(
    RetirementCancelled({
      retirementId: pending.retirementId,
      containerId: d.state.containerId,
      why,
      detail,
    }),
  );
}

const retirementIdOf = (state: LifecycleState, reason: string, now: Date) =>
  `${state.containerId.slice(0, 12)}-${reason}-${now.toISOString()}`;

function schedule(
  d: Decision,
  wanted: WantedRetirement,
  tick: { now: Date; leads: number[]; grace: number },
): void {
  const minLead = tick.leads.length > 0 && wanted.warn ? Math.min(...tick.leads) : 0;
  const at = Math.max(wanted.dueAt.getTime(), tick.now.getTime() + minLead * MINUTE);
  d.push(
    RetirementScheduled({
      retirementId: retirementIdOf(d.state, wanted.reason, tick.now),
      containerId: d.state.containerId,
      user: d.state.user,
      containerName: d.state.name,
      reason: wanted.reason,
      action: wanted.action,
      dueAt: wanted.dueAt.toISOString(),
      at: new Date(at).toISOString(),
      graceSeconds: tick.grace,
      warn: wanted.warn && tick.leads.length > 0,
      detail: wanted.detail,
    }),
  );
}

/** Why a pending retirement no longer holds, in the words of RetirementCancelled. */
function whyNoLonger(
  state: LifecycleState,
  pending: PendingRetirement,
  wanted: WantedRetirement | null,
  idleHold: 'keep_alive' | 'exempt' | null,
): { why: Cancellation; detail: string } {
  const running = state.status === 'running' || state.status === 'paused';
  if (state.status === 'removed') return { why: 'container_removed', detail: 'the container was removed' };
  if (pending.action !== 'remove' && !running)
    return { why: 'container_stopped', detail: 'the container stopped before it was retired' };
  if (pending.action === 'remove' && running)
    return { why: 'container_started', detail: 'the container was started' };
  if (pending.reason === 'idle' && wanted?.reason !== 'idle') {
    if (idleHold === 'keep_alive')
      return { why: 'keep_alive', detail: '/workspace/.keep-alive holds off idle retirement' };
    if (idleHold === 'exempt')
      return { why: 'exempt', detail: 'the owner or container is exempt from idle retirement' };
    return { why: 'active_again', detail: 'the container is active again' };
  }
  return {
    why: 'superseded',
    detail: wanted
      ? `now due for ${wanted.reason} at ${wanted.dueAt.toISOString()}`
      : 'no rule wants it retired now',
  };
}

function tick(state: LifecycleState, command: LifecycleTick): LifecycleDecision[] {
  if (state.status === 'unknown' || !state.containerId) return [];
  const d = new Decision(state);
  const { policy, now } = command;

  // Idle or active again, as the windows say.
  if (state.status === 'running' || state.status === 'paused') {
    const idle = idleStretch(state, policy);
    const recorded = state.idleRecordedSince;
    const idleSince = idle?.from ?? null;
    if (recorded !== null && recorded !== idleSince) {
      const u = state.usage;
      const activeAt = [
        lastActiveEnd(u.cpu, policy.cpuIdleThreshold),
        lastActiveEnd(u.network, policy.networkIdleThreshold),
        lastActiveEnd(u.gpu, policy.gpuIdleThreshold),
      ].reduce<string>((a, b) => (b !== null && b > a ? b : a), recorded);
      d.push(ContainerActiveAgain({ containerId: state.containerId, idleSince: recorded, activeAt }));
    }
    if (idleSince !== null && recorded !== idleSince)
      d.push(ContainerIdle({ containerId: state.containerId, idleSince }));
  }

  // The retirement the rules want, against the one pending.
  const pending = d.state.pending;
  if (pending?.executing || pending?.gaveUp) return d.events;
  const { wanted, idleHold } = wantedRetirement(d.state, command);
  const leads = [...policy.warningLeadMinutes].sort((a, b) => b - a);
  if (pending && pending.reason === 'admin') {
    if (d.state.status === 'removed') cancel(d, pending, 'container_removed', 'the container was removed');
  } else if (pending) {
    const same = wanted && wanted.reason === pending.reason && wanted.dueAt.toISOString() === pending.dueAt;
    if (!same) {
      const { why, detail } = whyNoLonger(d.state, pending, wanted, idleHold);
      cancel(d, pending, why, detail);
    }
  }
  if (!d.state.pending && wanted) schedule(d, wanted, { now, leads, grace: policy.sigtermGraceSeconds });

  warn(d, now, leads);
  return d.events;
}

/**
 * The owner is warned at each lead before the retirement (one warning when several leads passed at
 * once); never retired unwarned: a retirement whose first warning comes later than the shortest
 * lead (DS01 was down) moves to that lead from now.
 */
function warn(d: Decision, now: Date, leads: number[]): void {
  const p = d.state.pending;
  if (!p?.warn || p.executing || leads.length === 0) return;
  const minLead = leads[leads.length - 1]!;
  if (p.warnedLeads.length === 0 && Date.parse(p.at) - now.getTime() < minLead * MINUTE) {
    const at = new Date(now.getTime() + minLead * MINUTE).toISOString();
    d.push(
      RetirementPostponed({
        retirementId: p.retirementId,
        containerId: d.state.containerId,
        at,
        why: 'warning_lead',
      }),
    );
  }
  const q = d.state.pending!;
  const msLeft = Date.parse(q.at) - now.getTime();
  const due = leads.filter((lead) => msLeft <= lead * MINUTE && !q.warnedLeads.includes(lead));
  if (due.length === 0) return;
  d.push(
    RetirementWarned({
      retirementId: q.retirementId,
      containerId: d.state.containerId,
      user: d.state.user,
      containerName: d.state.name,
      reason: q.reason,
      at: q.at,
      leadMinutes: due,
      minutesLeft: Math.max(0, Math.ceil(msLeft / MINUTE)),
      detail: q.detail,
    }),
  );
}

function requireKnown(state: LifecycleState, what: string): void {
  if (state.status === 'unknown' || state.status === 'removed') {
    throw new LifecycleError(
      state.containerId,
      `cannot ${what} container ${state.containerId.slice(0, 12) || '(unknown)'}: ${state.status === 'removed' ? 'it was removed' : 'DS01 has no record of it'}`,
      'check the id or name with `ds01 containers --all`',
    );
  }
}

function extend(state: LifecycleState, command: ExtendLifecycle): LifecycleDecision[] {
  requireKnown(state, 'extend');
  const d = new Decision(state);
  d.push(
    LifecycleExtended({
      containerId: state.containerId,
      until: command.until.toISOString(),
      by: command.by,
      reason: command.reason,
    }),
  );
  const p = state.pending;
  if (
    p &&
    !p.executing &&
    (p.reason === 'idle' || p.reason === 'max_runtime') &&
    Date.parse(p.at) < command.until.getTime()
  )
    cancel(
      d,
      p,
      'extended',
      `extended by ${command.by} until ${command.until.toISOString()}: ${command.reason}`,
    );
  return d.events;
}

function exempt(state: LifecycleState, command: ExemptContainer): LifecycleDecision[] {
  requireKnown(state, 'exempt');
  const d = new Decision(state);
  d.push(
    LifecycleExemptionGranted({
      containerId: state.containerId,
      from: command.from,
      until: command.until?.toISOString() ?? null,
      by: command.by,
      reason: command.reason,
    }),
  );
  const p = state.pending;
  if (p && !p.executing && command.from.includes(p.reason as 'idle' | 'max_runtime'))
    cancel(d, p, 'exempt', `exempted by ${command.by}: ${command.reason}`);
  return d.events;
}

function retire(state: LifecycleState, command: RetireContainer): LifecycleDecision[] {
  requireKnown(state, 'retire');
  if (state.pending?.executing) {
    throw new LifecycleError(
      state.containerId,
      `container ${state.containerId.slice(0, 12)} is being retired already (${state.pending.reason})`,
      'see `ds01 lifecycle` for its progress',
    );
  }
  const d = new Decision(state);
  if (state.pending)
    cancel(d, state.pending, 'admin', `replaced by ${command.by}'s retirement: ${command.reason}`);
  const running = state.status === 'running' || state.status === 'paused';
  schedule(
    d,
    {
      reason: 'admin',
      action: running ? command.action : 'remove',
      dueAt: command.at,
      warn: running,
      detail: `retired by ${command.by}: ${command.reason}`,
    },
    {
      now: command.now,
      leads: [...command.warningLeadMinutes].sort((a, b) => b - a),
      grace: command.graceSeconds,
    },
  );
  warn(
    d,
    command.now,
    [...command.warningLeadMinutes].sort((a, b) => b - a),
  );
  return d.events;
}

function start(state: LifecycleState, command: StartRetirement): LifecycleDecision[] {
  const p = state.pending;
  if (!p || p.retirementId !== command.retirementId || p.executing || p.gaveUp) return [];
  return [
    RetirementStarted({
      retirementId: p.retirementId,
      containerId: state.containerId,
      attempt: p.attempts + 1,
      action: p.action,
      graceSeconds: p.graceSeconds,
      at: command.now.toISOString(),
    }),
  ];
}

function complete(state: LifecycleState, command: CompleteRetirement): LifecycleDecision[] {
  const p = state.pending;
  if (!p || p.retirementId !== command.retirementId || !p.executing) return [];
  return [
    ContainerRetired({
      retirementId: p.retirementId,
      containerId: state.containerId,
      user: state.user,
      reason: p.reason,
      action: p.action,
      outcome: command.outcome,
      resumed: command.resumed,
      at: command.now.toISOString(),
    }),
  ];
}

function fail(state: LifecycleState, command: FailRetirement): LifecycleDecision[] {
  const p = state.pending;
  if (!p || p.retirementId !== command.retirementId || !p.executing) return [];
  return [
    RetirementFailed({
      retirementId: p.retirementId,
      containerId: state.containerId,
      attempt: p.executing.attempt,
      error: command.error,
      retryAt: command.retryAt?.toISOString() ?? null,
    }),
  ];
}

/**
 * One container's lifecycle: idleness, retirements decided, warned, executed once. The state folds
 * the container's life, its usage windows and its lifecycle stream; decisions go to `lifecycle-<id>`.
 */
export const lifecycleDecider = {
  initialState: () => initialLifecycleState(),
  evolve: (state: LifecycleState, event: LifecycleEvent) => evolveLifecycle(state, event),
  decide(command: LifecycleCommand, state: LifecycleState): LifecycleDecision[] {
    switch (command.type) {
      case 'LifecycleTick':
        return tick(state, command);
      case 'ExtendLifecycle':
        return extend(state, command);
      case 'ExemptContainer':
        return exempt(state, command);
      case 'RetireContainer':
        return retire(state, command);
      case 'StartRetirement':
        return start(state, command);
      case 'CompleteRetirement':
        return complete(state, command);
      case 'FailRetirement':
        return fail(state, command);
    }
  },
};

/**
 * The retirement the enforcer should act on now, if any: scheduled, due, warned when it must be,
 * not in hand, not given up, past its retry time. An idle retirement waits while the windows that
 * say the container is idle stop coming (`staleAfterMs`): unknown is not idle.
 */
export function dueRetirement(
  state: LifecycleState,
  now: Date,
  staleAfterMs: number,
): PendingRetirement | null {
  const p = state.pending;
  if (!p || p.executing || p.gaveUp) return null;
  if (Date.parse(p.at) > now.getTime()) return null;
  if (p.retryAt !== null && Date.parse(p.retryAt) > now.getTime()) return null;
  if (p.warn && p.warnedLeads.length === 0) return null;
  if (p.reason === 'idle') {
    if (state.idleRecordedSince === null) return null;
    const evidence = state.usage.cpuCoverage?.until;
    if (!evidence || Date.parse(evidence) < now.getTime() - staleAfterMs) return null;
  }
  return p;
}
