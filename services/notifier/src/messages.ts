import type { RecordedEvent } from '@ds01/event-store';

/** What a user is told, on any channel. */
export interface Message {
  user: string;
  subject: string;
  text: string;
}

/** The events users are told about. */
export const NOTIFIED_EVENTS = ['RetirementWarned', 'GpuAllocationDenied', 'HostGpuProcessDetected'] as const;

const ACTIONS: Record<string, string> = {
  idle: 'stopped for idleness',
  max_runtime: 'stopped: it reached its maximum runtime',
  departed_user: 'stopped and removed: its owner left the lab',
  admin: 'retired by an administrator',
};

/** The message an event gives its user, or null when it names nobody to tell. */
export function messageOf(event: RecordedEvent): Message | null {
  const data = event.data as Record<string, unknown>;
  switch (event.type) {
    case 'RetirementWarned': {
      const d = data as {
        user: string | null;
        containerName: string;
        containerId: string;
        reason: string;
        at: string;
        minutesLeft: number;
        detail: string;
      };
      if (!d.user) return null;
      const name = d.containerName || d.containerId.slice(0, 12);
      const idle = d.reason === 'idle';
      return {
        user: d.user,
        subject: `DS01: container ${name} will be ${ACTIONS[d.reason] ?? 'retired'} in ${d.minutesLeft} min`,
        text: [
          `Your container ${name} (${d.containerId.slice(0, 12)}) will be ${ACTIONS[d.reason] ?? 'retired'} at ${d.at} (in ${d.minutesLeft} minutes).`,
          `Why: ${d.detail}.`,
          idle
            ? 'To keep it: use it (GPU or CPU), or run `touch /workspace/.keep-alive` inside it.'
            : 'Save your work now. An administrator can extend it: `ds01 lifecycle extend`.',
          'See `ds01 lifecycle` for what is coming.',
        ].join('\n'),
      };
    }
    case 'GpuAllocationDenied': {
      const d = data as { user: string; message: string; request: { count: number; profile: string | null } };
      return {
        user: d.user,
        subject: 'DS01: GPU request refused',
        text: `Your request for ${d.request.count} GPU${d.request.count === 1 ? '' : 's'}${d.request.profile ? ` (${d.request.profile})` : ''} was refused.\n${d.message}`,
      };
    }
    case 'HostGpuProcessDetected': {
      const d = data as { user: string | null; pid: number; command: string; gpuUuid: string };
      if (!d.user) return null;
      return {
        user: d.user,
        subject: 'DS01: a GPU process of yours runs outside a container',
        text: [
          `Process ${d.pid} (${d.command}) uses GPU ${d.gpuUuid} directly on the host.`,
          'GPUs are shared through containers: start one with `ds01 gpu allocate` and run it there.',
        ].join('\n'),
      };
    }
    default:
      return null;
  }
}
