import type { ResourceLimits } from './model.ts';
import type { Exemption } from './schema.ts';

export type ExemptEnforcement = 'idle_timeout_h' | 'max_runtime_h';

export type ExemptionCheck =
  | { exempt: true; exemption: Exemption; until: Date | null; reason: string }
  | { exempt: false };

/**
 * Whether `user` is exempt from an enforcement at `now` (ds01-infra's check_exemption, with its
 * messages): the first exemption of the user (exact name, no sanitized form) covering it that has
 * not expired. `expires_on` null or absent is permanent.
 */
export function activeExemption(
  config: ResourceLimits,
  user: string,
  enforcement: ExemptEnforcement,
  now: Date,
): ExemptionCheck {
  for (const exemption of config.exemptions) {
    if (exemption.username !== user || !exemption.exempt_from.includes(enforcement)) continue;
    const why = exemption.reason ?? 'No reason provided';
    if (exemption.expires_on === null || exemption.expires_on === undefined) {
      return { exempt: true, exemption, until: null, reason: `Permanent exemption: ${why}` };
    }
    const until = new Date(exemption.expires_on);
    if (now < until) {
      const written = typeof exemption.expires_on === 'string' ? exemption.expires_on : until.toISOString();
      return { exempt: true, exemption, until, reason: `Temporary exemption until ${written}: ${why}` };
    }
  }
  return { exempt: false };
}
