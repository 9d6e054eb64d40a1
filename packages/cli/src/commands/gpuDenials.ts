/**
 * A GPU denial as a user of `ds01 container deploy` reads it: what is wrong, with their numbers, and
 * the next step in the commands they use (retire one of theirs, a smaller slice, ask the admin). The
 * reason is the allocator's (DenialReasonSchema in packages/domain), passed on by the gateway.
 */
export interface DenialReasonLike {
  code: string;
  [key: string]: unknown;
}

/** `withGpus`: the names of the user's containers that hold GPUs (the ones a retire would free). */
export function gpuDenialNextStep(
  reason: DenialReasonLike,
  withGpus: readonly string[],
): { message: string; hint: string } {
  const n = (key: string) => Number(reason[key] ?? 0);
  const count = (value: number) => String(Math.round(value * 100) / 100);
  const retireOne = withGpus.length
    ? `retire one with \`ds01 container retire ${withGpus[0]}\`` +
      (withGpus.length > 1 ? ` (yours with GPUs: ${withGpus.join(', ')})` : '')
    : 'release what you hold (`ds01 gpu status` shows it)';
  switch (reason.code) {
    case 'over_quota':
    case 'over_group_limit':
      return {
        message:
          `you hold ${count(n('held'))} of ${count(n('limit'))} GPU${n('limit') === 1 ? '' : 's'}` +
          (reason.code === 'over_group_limit' ? " (your group's limit)" : ''),
        hint: `${retireOne}, ask for a smaller MIG slice (--profile 1g.10gb), or ask your admin`,
      };
    case 'no_free_slot':
      return {
        message: `none of the GPUs you may use is free now (${n('free')} free, ${n('requested')} asked)`,
        hint: 'see who holds what with `ds01 gpu status`; try another --profile, fewer --gpus, --cpu-only, or later',
      };
    case 'over_container_cap':
      return {
        message: `one container may hold at most ${n('cap')} GPU${n('cap') === 1 ? '' : 's'} of yours`,
        hint: `ask for fewer: --gpus ${n('cap')}`,
      };
    case 'full_gpu_not_allowed':
      return {
        message: 'your group may not use a whole GPU',
        hint: "ask for a MIG slice: --profile 1g.10gb (`ds01 gpu status` lists this host's profiles)",
      };
    case 'unknown_profile': {
      const available = Array.isArray(reason['available']) ? (reason['available'] as string[]) : [];
      return {
        message: `this host has no ${String(reason['profile'])} slot`,
        hint: `ask for one of: ${available.join(', ') || '(none)'}`,
      };
    }
    case 'departed_user':
      return {
        message: 'your account is recorded as having left the lab',
        hint: 'ask your admin if this is wrong',
      };
    default:
      return {
        message: 'DS01 does not know your account as a user of this server',
        hint: 'ask your admin to add it (ds01 user add)',
      };
  }
}

/**
 * A GPU container that was granted its devices but that Docker would not start, when the cause is the
 * server's NVIDIA set-up rather than the user's image: dockerd without the NVIDIA Container Toolkit
 * ("could not select device driver "nvidia""), or the toolkit's hook failing to give the devices
 * (nvidia-container-cli's errors). Null for any other start failure (the user's command, a mount...),
 * which is theirs to read as Docker says it.
 */
export function gpuStartFailureHint(dockerMessage: string): string | null {
  if (/could not select device driver/.test(dockerMessage)) {
    return "this host's Docker has no NVIDIA runtime: ask your admin (or deploy with --cpu-only)";
  }
  if (/nvidia-container-cli|nvidia-container-runtime-hook/.test(dockerMessage)) {
    return 'the NVIDIA Container Toolkit could not give the container its GPU: ask your admin (or deploy with --cpu-only)';
  }
  return null;
}
