import { type Coverage, intersect, lastActiveEnd } from './activity.ts';
import type { LifecycleState } from './lifecycleState.ts';
import type { LifecyclePolicy } from './policy.ts';

const latest = (...instants: (string | null)[]) =>
  instants.reduce<string | null>((a, b) => (b !== null && (a === null || b > a) ? b : a), null);

/**
 * Since when the container has been idle in its current run, as far as its usage windows tell:
 * every window since then under the thresholds (GPU activity, CPU, network), with no gap in the
 * windows. `until` is the end of the evidence. Null when it is not idle, or nothing is known: a
 * window with an unknown measure counts as active, and where no window is (a sampler stopped) the
 * container is not idle. A container that can reach a GPU is idle only where its GPU windows say so
 * too: without any (no GPU sampler, a device it reaches without an allocation) it is never idle.
 */
export function idleStretch(
  state: LifecycleState,
  policy: Pick<LifecyclePolicy, 'gpuIdleThreshold' | 'cpuIdleThreshold' | 'networkIdleThreshold'>,
): Coverage | null {
  const { usage } = state;
  if (state.gpuAccess && !usage.gpuCoverage) return null;
  const coverage = usage.gpuCoverage ? intersect(usage.cpuCoverage, usage.gpuCoverage) : usage.cpuCoverage;
  if (!coverage) return null;
  const since = latest(
    coverage.from,
    state.startedAt,
    lastActiveEnd(usage.cpu, policy.cpuIdleThreshold),
    lastActiveEnd(usage.network, policy.networkIdleThreshold),
    lastActiveEnd(usage.gpu, policy.gpuIdleThreshold),
  )!;
  return since < coverage.until ? { from: since, until: coverage.until } : null;
}
