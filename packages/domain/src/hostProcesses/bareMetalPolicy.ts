import type { BareMetalPolicy, BareMetalPolicySource } from './events.ts';

/** A grant of ds01-infra's `bare-metal-access grant` (one JSON per user in bare_metal_access.state_dir). */
export interface BareMetalGrant {
  user: string;
  type: 'permanent' | 'temporary';
  /** ISO instant; null for a permanent grant. */
  expiresAt: string | null;
}

/** Who may use GPUs on the host: ds01.yaml telemetry.host_processes plus resource-limits' bare_metal_access. */
export interface BareMetalRules {
  defaultPolicy: BareMetalPolicy;
  users: Readonly<Record<string, BareMetalPolicy>>;
  groups: Readonly<Record<string, BareMetalPolicy>>;
  /** bare_metal_access.exempt_users: always allowed. */
  exemptUsers: readonly string[];
  grants: readonly BareMetalGrant[];
}

const LENIENCY: Record<BareMetalPolicy, number> = { stop: 0, warn: 1, allow: 2 };

/**
 * The policy for one user's host GPU processes, and why. An exempt user or a grant still valid at
 * `now` is allowed (as ds01-infra's bare-metal-access); then the user's own setting; then the most
 * lenient of their groups' settings (a group is how access is given); then the default.
 */
export function bareMetalPolicyFor(
  user: string,
  groups: readonly string[],
  rules: BareMetalRules,
  now: Date,
): { policy: BareMetalPolicy; source: BareMetalPolicySource } {
  if (rules.exemptUsers.includes(user)) return { policy: 'allow', source: 'exempt-user' };
  const granted = rules.grants.some(
    (grant) =>
      grant.user === user &&
      (grant.type === 'permanent' ||
        (grant.expiresAt !== null && Date.parse(grant.expiresAt) > now.getTime())),
  );
  if (granted) return { policy: 'allow', source: 'grant' };
  const own = rules.users[user];
  if (own) return { policy: own, source: 'user' };
  const ofGroups = groups
    .map((group) => rules.groups[group])
    .filter((policy): policy is BareMetalPolicy => policy !== undefined)
    .sort((a, b) => LENIENCY[b] - LENIENCY[a]);
  if (ofGroups[0]) return { policy: ofGroups[0], source: 'group' };
  return { policy: rules.defaultPolicy, source: 'default' };
}
