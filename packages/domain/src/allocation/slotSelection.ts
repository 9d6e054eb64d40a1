import type { PoolSlot } from './events.ts';
import { compareSlots } from './poolState.ts';

/** Float noise of summed sevenths (3 × 1/7 ≠ 3/7 exactly) must never flip a quota decision. */
export const GPU_EQUIVALENT_EPSILON = 1e-9;

/**
 * Picks `count` free slots whose GPU-equivalents together fit in `budget`, never putting more than a
 * whole GPU's worth on one physical GPU, or null when no such choice exists in this order.
 * Preferences, in order:
 *  1. a MIG slot before a whole GPU: whole GPUs stay free for the work that needs one;
 *  2. the physical GPU with the least GPU-equivalents held (counting slots picked so far): load spreads
 *     across GPUs, and the slots of one request land on different GPUs where they can;
 *  3. the smaller slot: a request for "any device" does not take the large slice someone may ask for;
 *  4. slot order, so the same state always gives the same answer.
 * The choice is greedy: a slot that fits is never traded for a combination that would fit better.
 */
export function chooseSlots(
  free: readonly PoolSlot[],
  count: number,
  budget: number,
  heldLoadByGpu: ReadonlyMap<number, number>,
): PoolSlot[] | null {
  const load = new Map(heldLoadByGpu);
  const remaining = [...free];
  const chosen: PoolSlot[] = [];
  let left = budget;
  while (chosen.length < count) {
    const fitting = remaining.filter(
      (s) =>
        s.gpuEquivalents <= left + GPU_EQUIVALENT_EPSILON &&
        (load.get(s.gpuIndex) ?? 0) + s.gpuEquivalents <= 1 + GPU_EQUIVALENT_EPSILON,
    );
    if (fitting.length === 0) return null;
    const best = fitting.reduce((a, b) => (preferenceOrder(a, b, load) <= 0 ? a : b));
    chosen.push(best);
    remaining.splice(remaining.indexOf(best), 1);
    left -= best.gpuEquivalents;
    load.set(best.gpuIndex, (load.get(best.gpuIndex) ?? 0) + best.gpuEquivalents);
  }
  return chosen;
}

function preferenceOrder(a: PoolSlot, b: PoolSlot, load: ReadonlyMap<number, number>): number {
  return (
    Number(a.profile === 'full') - Number(b.profile === 'full') ||
    (load.get(a.gpuIndex) ?? 0) - (load.get(b.gpuIndex) ?? 0) ||
    a.gpuEquivalents - b.gpuEquivalents ||
    compareSlots(a.slot, b.slot)
  );
}

/** The least `count` of these slots could cost together, or null when there are fewer than `count`. */
export function cheapestCost(slots: readonly PoolSlot[], count: number): number | null {
  if (slots.length < count) return null;
  return [...slots]
    .map((s) => s.gpuEquivalents)
    .sort((a, b) => a - b)
    .slice(0, count)
    .reduce((sum, g) => sum + g, 0);
}
