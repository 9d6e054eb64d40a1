import { z } from 'zod';
import { defineEvent } from '../events/defineEvent.ts';

export const policyStream = 'policy';

/** One changed setting: its dotted path in the configuration, and the values before and after. */
export const PolicyDiffEntry = z.strictObject({
  path: z.string().min(1),
  before: z.unknown(),
  after: z.unknown(),
});

/** The lab's resource limits changed (a file edited and applied by ds01d). */
export const PolicyChanged = defineEvent({
  type: 'PolicyChanged',
  schema: z.strictObject({
    /** The file that changed, relative to the configuration folder. */
    file: z.string().min(1),
    /** sha256 of the file's new contents. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    diff: z.array(PolicyDiffEntry),
  }),
});

export const policyEvents = [PolicyChanged] as const;
