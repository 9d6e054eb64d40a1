import {
  parsePeriod,
  scopeToCaller,
  UsageGroupingSchema,
  UsagePeriodError,
  usageAnswer,
} from '@ds01/projections';
import type { Caller } from '../access/caller.ts';
import { type Decision, type Refusal, refuse } from '../decision.ts';
import type { GatewayContext } from '../gatewayContext.ts';
import { firstValue, type RequestTarget } from '../request/requestTarget.ts';

/** What `ds01 usage` shows an ordinary user who asked for someone else. */
const OWN_ONLY_HINT =
  'an ordinary user sees their own usage: leave out --user/--group, or ask an admin (sudo ds01 usage ...)';

/**
 * `GET /ds01/v1/usage?period=&by=&user=&group=`: the usage report `ds01 usage` prints, from the same
 * read model and queries. On a user socket it is the caller's own usage only: `user=` or `group=`
 * naming anyone else is refused (403, recorded as every refusal), never quietly narrowed, so the
 * user is not shown their own figures as if they were someone else's.
 */
export function answerUsage(context: GatewayContext, caller: Caller, target: RequestTarget): Decision {
  const periodText = firstValue(target.query, 'period') ?? '30d';
  const byText = firstValue(target.query, 'by') ?? 'user';
  const user = firstValue(target.query, 'user') || undefined;
  const group = firstValue(target.query, 'group') || undefined;
  const by = UsageGroupingSchema.safeParse(byText);
  if (!by.success) {
    return refuse(
      400,
      'ds01-api',
      `by=${byText} is not a grouping of usage (there are: ${UsageGroupingSchema.options.join(', ')})`,
    );
  }
  if (caller.kind === 'user') {
    if (user !== undefined && user !== caller.user)
      return ownOnly(`usage of ${user}: your socket answers for ${caller.user} only`, user);
    if (group !== undefined && group !== caller.group)
      return ownOnly(
        `usage of group ${group}: your socket answers for ${caller.user} (of group ${caller.group}) only`,
        group,
      );
  }
  const now = context.clock();
  let period: ReturnType<typeof parsePeriod>;
  try {
    period = parsePeriod(periodText, now);
  } catch (error) {
    if (!(error instanceof UsagePeriodError)) throw error;
    return { ...refuse(400, 'ds01-api', error.message), details: { hint: error.hint } };
  }
  const query = { ...period, user, group, by: by.data, intensity: context.gridIntensity, now };
  const scoped = caller.kind === 'user' ? scopeToCaller({ user: caller.user, admin: false }, query) : query;
  return { kind: 'answer', status: 200, json: usageAnswer(context.readModel(), scoped) };
}

function ownOnly(message: string, target: string): Refusal {
  return { ...refuse(403, 'usage-own-only', message, target), details: { hint: OWN_ONLY_HINT } };
}
