import type { Decider } from '@ds01/event-store';
import type { z } from 'zod';
import type { EventOf } from '../events/defineEvent.ts';
import {
  type FileOwner,
  PolicyChanged,
  type PolicyEditor,
  type PolicyProblem,
  PolicyRejected,
} from './events.ts';
import { applyPolicyDiff, diffPolicies, type PolicySnapshot } from './policyDiff.ts';

/** What the policy stream knows: the configuration last applied, and the hash of each of its files. */
export interface PolicyState {
  snapshot: PolicySnapshot;
  /** sha256 by file (relative to the configuration folder) as last applied. */
  files: Readonly<Record<string, string>>;
  /** The files of the last refused change (filesKey), until a change is applied; null: none. */
  rejected: string | null;
}

type ChangedFile = { file: string; sha256: string | null };

/**
 * Apply a (validated) configuration: `files` changed to these contents (sha256 null: removed),
 * giving the effective configuration `snapshot`. The first file is the one the change is
 * recorded under; more than one only when they are valid only together.
 */
export interface ApplyPolicyChange {
  kind?: 'apply';
  files: readonly ChangedFile[];
  snapshot: PolicySnapshot;
  changedBy?: PolicyEditor;
  fileOwner?: z.infer<typeof FileOwner>;
}

/** Refuse the files as they are now (they do not parse or validate): the last configuration stays. */
export interface RejectPolicyChange {
  kind: 'reject';
  files: readonly ChangedFile[];
  problems: readonly PolicyProblem[];
}

export type PolicyCommand = ApplyPolicyChange | RejectPolicyChange;

export type PolicyChangedEvent = EventOf<typeof PolicyChanged>;
export type PolicyRejectedEvent = EventOf<typeof PolicyRejected>;
export type PolicyEvent = PolicyChangedEvent | PolicyRejectedEvent;

/** One text for a set of files and their hashes, in any order. */
export function filesKey(files: readonly ChangedFile[]): string {
  return files
    .map(({ file, sha256 }) => `${file}=${sha256 ?? '-'}`)
    .sort()
    .join(' ');
}

/**
 * The policy stream's decider. A change is recorded once: applying what was already applied (same
 * hashes, same configuration) decides nothing, so a restarted ds01d does not record it again. A
 * file whose text changed but whose meaning did not (a comment) is recorded with an empty diff, so
 * that its new hash is known. A refusal is recorded once per state of the files.
 */
export const policyDecider: Decider<PolicyCommand, PolicyEvent, PolicyState> = {
  initialState: () => ({ snapshot: {}, files: {}, rejected: null }),

  decide(command, state) {
    if (command.kind === 'reject') {
      if (command.files.length === 0 || command.problems.length === 0) return [];
      if (state.rejected === filesKey(command.files)) return [];
      return [PolicyRejected({ files: [...command.files], problems: [...command.problems] })];
    }
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
        ...(command.fileOwner ? { fileOwner: command.fileOwner } : {}),
        ...(others.length > 0 ? { alsoChanged: others } : {}),
      }),
    ];
  },

  evolve(state, event) {
    if (event.type === 'PolicyRejected') return { ...state, rejected: filesKey(event.data.files) };
    const files: Record<string, string> = { ...state.files };
    for (const { file, sha256 } of [event.data, ...(event.data.alsoChanged ?? [])]) {
      if (sha256 === null) delete files[file];
      else files[file] = sha256;
    }
    return { snapshot: applyPolicyDiff(state.snapshot, event.data.diff), files, rejected: null };
  },
};
