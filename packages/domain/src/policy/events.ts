import { z } from 'zod';
import { defineEvent } from '../events/defineEvent.ts';
import { PolicyDiffEntry } from './policyDiff.ts';

export const policyStream = 'policy';

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 in hex');

/** Who changed a file: its owner after the change (uid, and the name when the system knows it). */
export const FileOwner = z.strictObject({
  uid: z.number().int().nonnegative(),
  user: z.string().min(1).nullable(),
});

/**
 * The lab's resource limits changed: a file of the configuration folder was edited (or added, or
 * removed) and ds01d applied it. `diff` is what changed in the effective configuration; the actor
 * of the event is who changed it (the file's owner).
 */
export const PolicyChanged = defineEvent({
  type: 'PolicyChanged',
  schema: z.strictObject({
    /** The file that changed, relative to the configuration folder. */
    file: z.string().min(1),
    /** sha256 of the file's new contents; null when the file was removed. */
    sha256: Sha256.nullable(),
    diff: z.array(PolicyDiffEntry),
    /** The file's owner; absent when the change did not come from a file (e.g. a command). */
    changedBy: FileOwner.optional(),
    /** Files changed at the same moment and applied with this one (each valid only together). */
    alsoChanged: z.array(z.strictObject({ file: z.string().min(1), sha256: Sha256.nullable() })).optional(),
  }),
});

export const policyEvents = [PolicyChanged] as const;
