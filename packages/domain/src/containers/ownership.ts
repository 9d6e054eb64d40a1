import type { Attribution, OwnerRule } from './attribution.ts';

/**
 * What an attribution may be used for. Only a verified owner (attribution.ts) is a fact about who
 * made a container; every other rule is a claim its creator wrote. The constraint lifecycle
 * enforcement and allocation must keep, in one place:
 *
 *   - a container's use is charged to a user's quota only when that user is its verified owner;
 *   - stopping, retiring or releasing the work of a user on the strength of an attribution needs
 *     an admin's confirmation unless the attribution is verified.
 */

/** True only for the owner the creator could not write (the gateway socket). */
export function isVerifiedOwner(owner: Pick<Attribution, 'verified'>): boolean {
  return owner.verified === true;
}

/** Whose quota the container's use may be charged to: its verified owner, else nobody. */
export function chargeableOwner(owner: Pick<Attribution, 'user' | 'verified'>): string | null {
  return isVerifiedOwner(owner) ? owner.user : null;
}

/** Acting on this container as the owner's work (stop, retire, release) needs an admin's confirmation. */
export function actingNeedsAdminConfirmation(owner: Pick<Attribution, 'verified'>): boolean {
  return !isVerifiedOwner(owner);
}

/** What a claim rests on, in a word: `label`, `path`, `cgroup parent`, `name`, `mount`, `uid`. */
const CLAIM_KIND: Record<Exclude<OwnerRule, 'gateway' | 'unknown'>, string> = {
  ds01_label: 'label',
  aime_label: 'label',
  devcontainer: 'path',
  compose_dir: 'path',
  cgroup_slice: 'cgroup parent',
  container_name: 'name',
  mount_path: 'mount',
  container_uid: 'uid',
};

/** "verified: gateway", "claimed by label: ds01_label", "unknown": how far the owner can be trusted. */
export function ownershipSummary(owner: Pick<Attribution, 'rule' | 'verified'>): string {
  if (owner.rule === 'unknown') return 'unknown';
  if (isVerifiedOwner(owner)) return `verified: ${owner.rule}`;
  if (owner.rule === 'gateway') return 'claimed: gateway';
  return `claimed by ${CLAIM_KIND[owner.rule]}: ${owner.rule}`;
}
