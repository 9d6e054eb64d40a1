import type { ProjectedEvent } from '../runner/projection.ts';

/** One line of the audit trail: whom an event concerns, what it says and why it was so. */
export interface AuditLine {
  user: string | null;
  container: string | null;
  slot: string | null;
  summary: string;
  /** The rule, reason or evidence behind it (denial reason, owner rule, release reason). */
  why: string | null;
}

const short = (id: string | null | undefined) => (id ? id.slice(0, 12) : null);

/**
 * What an event means to a person reading the audit trail. Usage windows are not part of it (they
 * are telemetry, hundreds of thousands a year); every other event is, with a sentence of its own
 * or its fields.
 */
export function describeEvent(event: ProjectedEvent): AuditLine {
  const line = (summary: string, more: Partial<AuditLine> = {}): AuditLine => ({
    user: null,
    container: null,
    slot: null,
    why: null,
    summary,
    ...more,
  });
  switch (event.type) {
    case 'UserRegistered':
      return line(`registered ${event.data.user} (group ${event.data.group}, uid ${event.data.uid ?? '?'})`, {
        user: event.data.user,
      });
    case 'UserDeparted':
      return line(`${event.data.user} departed`, { user: event.data.user, why: event.data.reason });
    case 'GpuAllocated': {
      const d = event.data;
      return line(
        `granted slot ${d.slot} (${d.profile}, ${round(d.gpuEquivalents)} GPU) to ${d.user ?? 'an unknown owner'}${d.containerId ? ` for container ${short(d.containerId)}` : ''}`,
        {
          user: d.user,
          container: d.containerId,
          slot: d.slot,
          why:
            d.observation === 'reconciled'
              ? 'taken over from ds01-infra at the switch-over'
              : `request ${d.requestId}`,
        },
      );
    }
    case 'GpuAllocationDenied': {
      const d = event.data;
      return line(
        `denied ${d.request.count} × ${d.request.profile ?? 'any'} GPU to ${d.user}: ${d.message}`,
        {
          user: d.user,
          container: d.containerId,
          why: reasonText(d.reason),
        },
      );
    }
    case 'GpuReleased':
      return line(`released slot ${event.data.slot}${event.data.user ? ` of ${event.data.user}` : ''}`, {
        user: event.data.user,
        container: event.data.containerId,
        slot: event.data.slot,
        why: event.data.reason,
      });
    case 'GpuHoldStarted':
      return line(
        `container stopped: keeps slot${event.data.slots.length > 1 ? 's' : ''} ${event.data.slots.join(', ')} ${event.data.expiresAt ? `until ${event.data.expiresAt}` : 'until removed'}`,
        { user: event.data.user, container: event.data.containerId, why: 'gpu_hold_after_stop_h' },
      );
    case 'GpuHoldEnded':
      return line('container started again within its hold: keeps its GPUs', {
        container: event.data.containerId,
      });
    case 'GpuHoldExpired':
      return line('GPU hold ran out', { container: event.data.containerId, why: 'gpu_hold_after_stop_h' });
    case 'GpuReconciliationProblem':
      return line(`switch-over problem: ${event.data.problem}`, {
        user: event.data.user,
        container: event.data.containerId,
        slot: event.data.slot,
        why: event.data.detail,
      });
    case 'ContainerCreated':
      return line(`container ${event.data.name} created (${event.data.image})`, {
        container: event.data.containerId,
      });
    case 'ContainerDescribed':
      return line(
        `container ${event.data.name}: owner ${event.data.owner.user ?? 'unknown'}, ${event.data.interface}/${event.data.type}, GPU ${event.data.gpu.access}${event.data.managed ? ', managed' : ''}`,
        {
          user: event.data.owner.user,
          container: event.data.containerId,
          why: `owner by ${event.data.owner.rule}: ${event.data.owner.evidence}`,
        },
      );
    case 'UnmanagedContainerDetected':
      return line(
        `unmanaged container ${event.data.name} (${event.data.interface}) with GPU access ${event.data.gpu.access}`,
        {
          user: event.data.owner.user,
          container: event.data.containerId,
          why: `owner by ${event.data.owner.rule}: ${event.data.owner.evidence}`,
        },
      );
    case 'ContainerStarted':
    case 'ContainerRestarted':
    case 'ContainerPaused':
    case 'ContainerUnpaused':
    case 'ContainerRemoved':
    case 'ContainerOutOfMemory':
      return line(`container ${event.data.name} ${verb(event.type)}`, {
        container: event.data.containerId,
        why: event.data.observation === 'reconciled' ? 'found by reconciling with Docker' : null,
      });
    case 'ContainerStopped':
      return line(
        `container ${event.data.name} stopped (exit ${event.data.exitCode ?? '?'}${event.data.oomKilled ? ', out of memory' : ''})`,
        { container: event.data.containerId },
      );
    case 'ContainerRenamed':
      return line(`container ${event.data.oldName} renamed ${event.data.name}`, {
        container: event.data.containerId,
      });
    case 'ContainerHealthChanged':
      return line(`container ${event.data.name} ${event.data.health}`, { container: event.data.containerId });
    case 'ContainerIdle':
      return line(`container idle since ${event.data.idleSince}`, { container: event.data.containerId });
    case 'PolicyChanged':
      return line(
        `policy ${event.data.file} ${event.data.sha256 ? 'changed' : 'removed'}: ${event.data.diff.length} change${event.data.diff.length === 1 ? '' : 's'}`,
        {
          // Only a writer the kernel named is the user; the file's owner is not necessarily who changed it.
          user: event.data.changedBy && event.data.changedBy !== 'unknown' ? event.data.changedBy.user : null,
        },
      );
    case 'HostGpuProcessDetected':
      return line(`host process ${event.data.pid} (${event.data.command}) uses GPU ${event.data.gpuUuid}`, {
        user: event.data.user,
        why: event.data.user ? null : 'no owner found (unattributed)',
      });
    case 'AuditSealed':
      return line(`log sealed up to position ${event.data.upTo} (${event.data.events} events)`);
    case 'Ds01InfraEventImported': {
      const d = event.data;
      const container = typeof d.details['container'] === 'string' ? d.details['container'] : null;
      const fields = Object.entries(d.details)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      return line(`ds01-infra ${d.eventType}${d.user ? ` of ${d.user}` : ''}${fields ? `: ${fields}` : ''}`, {
        user: d.user,
        container,
        why: `imported from ds01-infra's event log${d.source ? ` (source ${d.source})` : ''}`,
      });
    }
    default:
      return line(event.type.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase());
  }
}

function verb(type: string): string {
  return (
    {
      ContainerStarted: 'started',
      ContainerRestarted: 'restarted',
      ContainerPaused: 'paused',
      ContainerUnpaused: 'unpaused',
      ContainerRemoved: 'removed',
      ContainerOutOfMemory: 'hit its memory limit (OOM kill)',
    }[type] ?? type
  );
}

function reasonText(reason: { code: string } & Record<string, unknown>): string {
  const { code, ...rest } = reason;
  const fields = Object.entries(rest).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('|') : String(v)}`);
  return fields.length ? `${code} (${fields.join(' ')})` : code;
}

function round(n: number): string {
  return String(Math.round(n * 100) / 100);
}
