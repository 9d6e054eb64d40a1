import type { DenialReason, GpuRequest } from './events.ts';

/** GPU-equivalents as people read them: at most two decimals, no trailing zeros (1.57, 2, 0.14). */
export function formatGpuEquivalents(value: number): string {
  return String(Math.round(value * 100) / 100);
}

/** Rounds for the event's reason, so the stored numbers are the ones the message shows. */
export function roundGpuEquivalents(value: number): number {
  return Math.round(value * 100) / 100;
}

export function describeRequest(request: GpuRequest): string {
  const what =
    request.profile === null
      ? 'GPU device'
      : request.profile === 'full'
        ? 'whole GPU'
        : `${request.profile} slot`;
  return `${request.count} ${what}${request.count === 1 ? '' : 's'}`;
}

/** The sentence a person reads: what is wrong, with the numbers, and what they can do next. */
export function denialMessage(user: string, request: GpuRequest, reason: DenialReason): string {
  switch (reason.code) {
    case 'unknown_user':
      return `'${user}' is not a user DS01 knows: check the spelling, or ask an admin to add the account`;
    case 'departed_user':
      return `'${user}' has left the lab (UserDeparted): a departed account gets no GPUs; ask an admin if this is wrong`;
    case 'full_gpu_not_allowed':
      return (
        `${user} may not use a whole GPU (allow_full_gpu is false for their group): ` +
        `ask for a MIG slot with --profile (see \`ds01 gpu status\` for the profiles of this host)`
      );
    case 'unknown_profile':
      return (
        `this host has no ${reason.profile} slot: its profiles are ${reason.available.join(', ') || '(none)'}; ` +
        `ask for one of those with --profile`
      );
    case 'over_container_cap':
      return (
        `the container holds ${reason.held} GPU slot${reason.held === 1 ? '' : 's'} and asks for ${reason.requested} more, ` +
        `but ${user} may use at most ${reason.cap} per container (max_gpu_slots_per_container): ` +
        `release one (ds01 gpu release --slot S) or ask for fewer`
      );
    case 'over_quota':
    case 'over_group_limit': {
      const limit =
        reason.code === 'over_quota'
          ? `${formatGpuEquivalents(reason.limit)} GPU-equivalents (max_gpu_equivalents)`
          : `the group's limit of ${formatGpuEquivalents(reason.limit)} GPU-equivalents per user (aggregate gpu_limit)`;
      return (
        `${user} holds ${formatGpuEquivalents(reason.held)} of ${limit}; ${describeRequest(request)} ` +
        `need${request.count === 1 ? 's' : ''} at least ${formatGpuEquivalents(reason.requested)} more: ` +
        `release a GPU (ds01 gpu release --container C) or ask for a smaller profile`
      );
    }
    case 'no_free_slot':
      return (
        `no ${describeRequest(request)} free for ${user}: ${reason.free} free of those they may use, ` +
        `${reason.requested} asked; try another profile, or see who holds what with \`ds01 gpu status\``
      );
  }
}
