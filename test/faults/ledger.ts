/**
 * What the load generator did and what each command answered: the checks hold the log to it.
 *
 * - acknowledged: the CLI exited with its answer (0, or 3 for a recorded denial) and printed it;
 *   it must be on the log exactly once.
 * - killed: the harness SIGKILLed it mid-command; it may be on the log or not, never twice.
 * - failed: it exited with an error (1, 2...); like killed, on the log at most once.
 */
export type CommandOutcome = 'acknowledged' | 'killed' | 'failed';

export interface AllocateRecord {
  kind: 'allocate';
  user: string;
  /** A made-up container id, one per command: it names the command's events on the log. */
  containerId: string;
  outcome: CommandOutcome;
  /** When acknowledged: the decision as printed (--json). */
  answer?: { granted: boolean; requestId: string; slots: string[] };
  /** First line of stderr when failed. */
  error?: string;
}

export interface ReleaseRecord {
  kind: 'release';
  user: string;
  containerId: string;
  outcome: CommandOutcome;
  /** When acknowledged: the slots it said it released (empty: it said the container held none). */
  released?: string[];
  error?: string;
}

export type CommandRecord = AllocateRecord | ReleaseRecord;

/** A container the harness started on the test dockerd, and whether it removed it. */
export interface ContainerRecord {
  id: string;
  removed: boolean;
}

export class Ledger {
  readonly commands: CommandRecord[] = [];
  readonly containers = new Map<string, ContainerRecord>();
  cliKills = 0;
  daemonKills = 0;

  /** The commands answered so far: a copy, taken before a snapshot of the log is. */
  commandsSoFar(): CommandRecord[] {
    return [...this.commands];
  }

  acknowledged(): number {
    return this.commands.filter((c) => c.outcome === 'acknowledged').length;
  }
}
