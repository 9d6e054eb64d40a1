import { z } from 'zod';
import { defineEvent } from '../events/defineEvent.ts';
import { PolicyDiffEntry } from './policyDiff.ts';

export const policyStream = 'policy';

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 in hex');

/** An account by uid, with its name when the system knows it. */
export const FileOwner = z.strictObject({
  uid: z.number().int().nonnegative(),
  user: z.string().min(1).nullable(),
});

/**
 * Who wrote a change: known only when the kernel said which process wrote it (fanotify gives the
 * writer's pid to a privileged listener; inotify and fs.watch give nobody). The owner of a file is
 * not its editor (anyone with write access to a group-writable file edits it without owning it), so
 * it is never put here as a guess: `unknown` is said as such, and the owner is a field of its own.
 */
export const PolicyEditor = z.union([
  z.literal('unknown'),
  z.strictObject({ ...FileOwner.shape, how: z.enum(['fanotify']) }),
]);
export type PolicyEditor = z.infer<typeof PolicyEditor>;

const ChangedFile = z.strictObject({ file: z.string().min(1), sha256: Sha256.nullable() });

const PolicyChangedV2 = z.strictObject({
  /** The file that changed, relative to the configuration folder. */
  file: z.string().min(1),
  /** sha256 of the file's new contents; null when the file was removed. */
  sha256: Sha256.nullable(),
  diff: z.array(PolicyDiffEntry),
  /** Who wrote the change (see PolicyEditor); absent when the change did not come from a file. */
  changedBy: PolicyEditor.optional(),
  /** The file's owner after the change (not necessarily who changed it); absent: removed, or no file. */
  fileOwner: FileOwner.optional(),
  /** Files changed at the same moment and applied with this one (each valid only together). */
  alsoChanged: z.array(ChangedFile).optional(),
});

/**
 * The lab's resource limits changed: a file of the configuration folder was edited (or added, or
 * removed) and ds01d applied it. `diff` is what changed in the effective configuration. Version 1
 * put the file's owner in `changedBy` (and as the event's actor) as if they had made the change;
 * version 2 keeps the owner in `fileOwner` and says `unknown` where the editor is not known.
 */
export const PolicyChanged = defineEvent({
  type: 'PolicyChanged',
  version: 2,
  schema: PolicyChangedV2,
  upcasters: {
    1: (data: { changedBy?: z.infer<typeof FileOwner> } & Record<string, unknown>) => {
      const { changedBy, ...rest } = data;
      return changedBy ? { ...rest, changedBy: 'unknown', fileOwner: changedBy } : rest;
    },
  },
});

/** One reason a change was refused, located for a person (file:line:column, key). */
export const PolicyProblem = z.strictObject({
  file: z.string(),
  line: z.number().int().nonnegative(),
  column: z.number().int().nonnegative(),
  key: z.string(),
  message: z.string(),
});
export type PolicyProblem = z.infer<typeof PolicyProblem>;

/**
 * A change of the configuration files was refused (it does not parse or validate, or a file may not
 * be read): the last applied configuration stays in force. Recorded once per state of the files.
 */
export const PolicyRejected = defineEvent({
  type: 'PolicyRejected',
  schema: z.strictObject({
    /** The files as they were when refused (sha256 null: removed or unreadable). */
    files: z.array(ChangedFile).min(1),
    problems: z.array(PolicyProblem).min(1),
  }),
});

export const policyEvents = [PolicyChanged, PolicyRejected] as const;
