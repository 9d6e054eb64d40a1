import { actingNeedsAdminConfirmation } from '../containers/ownership.ts';
import type { LifecycleTick } from './commands.ts';
import type { RetirementAction, RetirementReason } from './events.ts';
import { idleStretch } from './idleness.ts';
import type { LifecycleState } from './lifecycleState.ts';

const MINUTE = 60_000;
const HOUR = 3_600_000;

/** What the rules say should happen to a container, before warnings are taken into account. */
export interface WantedRetirement {
  reason: RetirementReason;
  action: RetirementAction;
  dueAt: Date;
  warn: boolean;
  detail: string;
}

/** Why no idle retirement is wanted although the container is idle (for the cancellation's words). */
export type IdleHold = 'keep_alive' | 'exempt' | null;

const later = (a: Date, b: string | null) => (b !== null && Date.parse(b) > a.getTime() ? new Date(b) : a);
const hhmm = (d: Date | string) => new Date(d).toISOString().slice(0, 16).replace('T', ' ');
const plural = (n: number, unit: string) => `${Number(n.toFixed(2))} ${unit}${n === 1 ? '' : 's'}`;

function adminExempt(state: LifecycleState, rule: 'idle' | 'max_runtime', now: Date): boolean {
  if (!(rule in state.exemptions)) return false;
  const until = state.exemptions[rule];
  return until === null || until === undefined || Date.parse(until) > now.getTime();
}

/** The keep-alive file holds off idle retirement while it is younger than keepalive_max_duration_h. */
export function keepAliveHonoured(tick: LifecycleTick): boolean {
  if (!tick.keepAlive) return false;
  const max = tick.policy.keepAliveMaxHours;
  return max === null || Date.parse(tick.keepAlive.modifiedAt) + max * HOUR > tick.now.getTime();
}

/**
 * Every rule that wants the container retired, earliest first: for a running container its verified
 * owner's departure (after the notice), its max runtime, its idle timeout; for one created and never
 * started, created_container_timeout_m; for a stopped one, container_hold_after_stop_h (removal).
 * Infrastructure containers are never retired. Returns the wanted retirement and, when only a
 * keep-alive file or an exemption holds off an idle retirement, which.
 */
export function wantedRetirement(
  state: LifecycleState,
  tick: LifecycleTick,
): { wanted: WantedRetirement | null; idleHold: IdleHold } {
  const { policy, now } = tick;
  if (state.infrastructure) return { wanted: null, idleHold: null };
  const candidates: WantedRetirement[] = [];
  // A departure stops the work of the user who left: only a verified owner's (issue 16). A container
  // that merely claims a departed owner (a label, a path its creator wrote) may be another user's; an
  // admin retires it (`ds01 lifecycle retire`), which is the confirmation a claim needs.
  const departed = actingNeedsAdminConfirmation({ verified: state.userVerified })
    ? null
    : tick.ownerDepartedAt;
  const departure = (action: RetirementAction, warn: boolean): WantedRetirement | null =>
    departed === null
      ? null
      : {
          reason: 'departed_user',
          action,
          dueAt: new Date(Date.parse(departed) + policy.departedNoticeHours * HOUR),
          warn,
          detail: `its owner ${state.user ?? '(unknown)'} left the lab on ${hhmm(departed)}; containers go after a notice of ${plural(policy.departedNoticeHours, 'hour')}`,
        };
  let idleHold: IdleHold = null;

  if ((state.status === 'running' || state.status === 'paused') && state.startedAt) {
    const started = Date.parse(state.startedAt);
    const d = departure('stop_and_remove', true);
    if (d) candidates.push(d);
    if (policy.maxRuntimeHours !== null && !adminExempt(state, 'max_runtime', now)) {
      if (policy.exemptions.maxRuntime === null) {
        candidates.push({
          reason: 'max_runtime',
          action: 'stop',
          dueAt: later(new Date(started + policy.maxRuntimeHours * HOUR), state.extendedUntil),
          warn: true,
          detail: `running since ${hhmm(state.startedAt)}; its max runtime is ${plural(policy.maxRuntimeHours, 'hour')}`,
        });
      }
    }
    const idle = idleStretch(state, policy);
    if (idle && policy.idleTimeoutMinutes !== null) {
      if (adminExempt(state, 'idle', now) || policy.exemptions.idle !== null) idleHold = 'exempt';
      else if (keepAliveHonoured(tick)) idleHold = 'keep_alive';
      else {
        const graceEnd = started + policy.startGraceMinutes * MINUTE;
        const from = Math.max(Date.parse(idle.from), graceEnd);
        const timeout = policy.idleTimeoutMinutes * (tick.highDemand ? policy.highDemandIdleReduction : 1);
        candidates.push({
          reason: 'idle',
          action: 'stop',
          dueAt: later(new Date(from + timeout * MINUTE), state.extendedUntil),
          warn: true,
          detail:
            `idle since ${hhmm(idle.from)} (GPU under ${policy.gpuIdleThreshold}%, CPU under ${policy.cpuIdleThreshold}%, ` +
            `network under ${policy.networkIdleThreshold} bytes a window); idle timeout ${plural(timeout, 'minute')}` +
            (tick.highDemand ? ' (shortened: the GPUs are in high demand)' : '') +
            '. Any activity, or touching /workspace/.keep-alive, keeps it',
        });
      }
    }
  } else if (state.status === 'created' && state.createdAt) {
    const d = departure('remove', false);
    if (d) candidates.push(d);
    if (policy.createdContainerTimeoutMinutes !== null) {
      candidates.push({
        reason: 'never_started',
        action: 'remove',
        dueAt: new Date(Date.parse(state.createdAt) + policy.createdContainerTimeoutMinutes * MINUTE),
        warn: false,
        detail: `created at ${hhmm(state.createdAt)} and never started (created_container_timeout_m ${policy.createdContainerTimeoutMinutes})`,
      });
    }
  } else if (state.status === 'exited' && state.finishedAt) {
    const d = departure('remove', false);
    if (d) candidates.push(d);
    if (policy.containerHoldAfterStopHours !== null) {
      candidates.push({
        reason: 'stopped_hold_expired',
        action: 'remove',
        dueAt: new Date(Date.parse(state.finishedAt) + policy.containerHoldAfterStopHours * HOUR),
        warn: false,
        detail: `stopped at ${hhmm(state.finishedAt)}; stopped containers are removed after ${plural(policy.containerHoldAfterStopHours, 'hour')} (container_hold_after_stop_h)`,
      });
    }
  }
  candidates.sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime());
  return { wanted: candidates[0] ?? null, idleHold };
}
