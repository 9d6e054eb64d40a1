import type { Decider } from '@ds01/event-store';
import type { z } from 'zod';
import type { EventOf } from '../events/defineEvent.ts';
import { type FileOwner, PolicyChanged } from './events.ts';
import { applyPolicyDiff, diffPolicies, type PolicySnapshot } from './policyDiff.ts';

/** What the policy stream knows: the configuration last applied, and the hash of each of its files. */
export interface PolicyState {
  snapshot: PolicySnapshot;
  /** sha256 by file (relative to the configuration folder) as last applied. */
  files: Readonly<Record<string, string>>;
}

/**
 * Apply a (validated) configuration: `files` changed to these contents (sha256 null: removed),
 * giving the effective configuration `snapshot`. The first file is the one the change is
 * recorded under; more than one only when they are valid only together.
 */
export interface ApplyPolicyChange {
  files: readonly { file: string; sha256: string | null }[];
  snapshot: PolicySnapshot;
  changedBy?: z.infer<typeof FileOwner>;
}

export type PolicyEvent = EventOf<typeof PolicyChanged>;

/**
 * The policy stream's decider. A change is recorded once: applying what was already applied (same
 * hashes, same configuration) decides nothing, so a restarted ds01d does not record it again. A
 * file whose text changed but whose meaning did not (a comment) is recorded with an empty diff, so
 * that its new hash is known.
 */
export const policyDecider: Decider<ApplyPolicyChange, PolicyEvent, PolicyState> = {
  initialState: () => ({ snapshot: {}, files: {} }),

  decide(command, state) {
    const [first, ...others] = command.files;
    if (!first) return [];
    const diff = diffPolicies(state.snapshot, command.snapshot);
    const filesChanged = command.files.some(({ file, sha256 }) => (state.files[file] ?? null) !== sha256);
    if (!filesChanged && diff.length === 0) return [];
    return [
      PolicyChanged({
        file: first.file,
        sha256: first.sha256,
        diff,
        ...(command.changedBy ? { changedBy: command.changedBy } : {}),
        ...(others.length > 0 ? { alsoChanged: others } : {}),
      }),
    ];
  },

  evolve(state, event) {
    const files: Record<string, string> = { ...state.files };
    for (const { file, sha256 } of [event.data, ...(event.data.alsoChanged ?? [])]) {
      if (sha256 === null) delete files[file];
      else files[file] = sha256;
    }
    return { snapshot: applyPolicyDiff(state.snapshot, event.data.diff), files };
  },
};
