import { randomUUID } from 'node:crypto';
import {
  ContainerId,
  type ContainerStart,
  containerSlots,
  containerStream,
  type DenialReason,
  type ExistingGpuContainer,
  type GpuPoolCommand,
  type GpuPoolEvent,
  GpuPoolSnapshotTaken,
  type GpuRequest,
  GpuRequestSchema,
  GpuSlotId,
  gpuPoolDecider,
  gpuPoolStream,
  type Holding,
  type PoolState,
  snapshotOfPoolState,
  UserName,
} from '@ds01/domain';
import { type Actor, CommandHandler, type EventStore } from '@ds01/event-store';
import type { z } from 'zod';
import { InvalidGpuRequestError } from './errors.ts';
import type { InventorySource, LimitsSource, UserStatusSource } from './ports.ts';

export interface GpuAllocatorOptions {
  store: EventStore;
  /** This host's name: the pool is the stream `gpu-pool-<host>`. */
  host: string;
  limits: LimitsSource;
  inventory: InventorySource;
  users: UserStatusSource;
  /** The time commands are decided at; tests and replays give their own. */
  clock?: () => Date;
  /**
   * A snapshot of the pool state is appended with the decision that makes this many events since
   * the last one (DEFAULT_SNAPSHOT_EVERY), so a process new to the pool reads at most that many.
   */
  snapshotEvery?: number;
}

/**
 * Events between pool snapshots. A snapshot of a full 28-slot pool is ~14 KB of data, about 23
 * events with their metadata: every 200 events it adds ~11% to the pool stream, and a cold reader
 * decodes at most 200 events instead of the whole history.
 */
export const DEFAULT_SNAPSHOT_EVERY = 200;

/** How long a grant for a create waits for dockerd's answer before it is released. */
export const DEFAULT_PENDING_GRANT_MS = 120_000;

export interface AllocateForCreateInput {
  user: string;
  request: GpuRequest;
  requestId?: string;
  /** How long the grant waits for bindGrant (default DEFAULT_PENDING_GRANT_MS). */
  pendingForMs?: number;
  causationId?: string;
}

export interface AllocateInput {
  user: string;
  request: GpuRequest;
  /** Full 64-hex Docker id of the container the GPUs are for; null: not bound to one yet. */
  containerId: string | null;
  /** Names the request in its events; a fresh id when absent. */
  requestId?: string;
  /** The event that caused this request (for the audit trail). */
  causationId?: string;
}

/** What a request got: its slots, or the reason it was refused (as recorded in the log). */
export type AllocationOutcome = (
  | { granted: true; slots: Holding[] }
  | { granted: false; reason: DenialReason; message: string }
) & {
  requestId: string;
  /** Log position of the decision's last event. */
  position: number;
  /** How many times the decision was taken again because another writer appended first. */
  retries: number;
};

export interface ReleaseInput {
  /** A container (full id, or a unique prefix of one holding GPUs) or a slot name. */
  target: { container: string } | { slot: string };
  reason?: 'requested' | 'container_removed' | 'retired';
  /** 'ignore': releasing what nobody holds is no error (process managers replaying events). */
  ifNothingHeld?: 'fail' | 'ignore';
}

export interface ReleaseOutcome {
  released: Array<{ slot: string; user: string | null; containerId: string | null }>;
}

/**
 * The command path of GPU allocation, used by ds01d and the CLI alike: it gathers what a decision
 * needs (the user's limits and status, the pool's devices, the time), runs the pool decider on the
 * host's pool stream and appends the outcome with the stream's expected revision. Another writer
 * getting there first (another process, another request) makes it decide again on the new state,
 * so a slot is never granted twice. One instance caches the pool state between commands.
 */
export class GpuAllocator {
  readonly host: string;
  readonly stream: string;
  readonly #handler: CommandHandler<GpuPoolCommand, GpuPoolEvent, PoolState>;
  readonly #options: GpuAllocatorOptions;
  readonly #clock: () => Date;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: GpuAllocatorOptions) {
    this.host = options.host;
    this.stream = gpuPoolStream(options.host);
    this.#options = options;
    this.#clock = options.clock ?? (() => new Date());
    this.#handler = new CommandHandler(options.store, gpuPoolDecider, {
      snapshots: {
        type: 'GpuPoolSnapshotTaken',
        every: options.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY,
        take: (state, revision) => GpuPoolSnapshotTaken(snapshotOfPoolState(state, revision)),
      },
    });
  }

  /** The pool's current state (read from the log, cached). */
  async state(): Promise<PoolState> {
    return (await this.#handler.load(this.stream)).state;
  }

  /**
   * The gateway's allocation for a container it is about to create: granted pending (no container
   * yet), to be bound with bindGrant once dockerd answers with the id, or released with releaseGrant
   * when it refuses. A grant bound by nobody is released after pendingForMs (the hold timer or the
   * next allocation does it), so a create that never answered holds nothing.
   */
  async allocateForCreate(input: AllocateForCreateInput, actor: Actor): Promise<AllocationOutcome> {
    const pendingForMs = input.pendingForMs ?? DEFAULT_PENDING_GRANT_MS;
    return this.#allocate(
      {
        user: input.user,
        request: input.request,
        containerId: null,
        ...(input.requestId === undefined ? {} : { requestId: input.requestId }),
        ...(input.causationId === undefined ? {} : { causationId: input.causationId }),
      },
      actor,
      pendingForMs,
    );
  }

  /**
   * dockerd created the container: the pending grant's slots are bound to its id. Throws
   * GrantNotPendingError when the grant expired or was released first (the container must then not
   * run with those devices: remove it). Binding again to the same container is a no-op.
   */
  async bindGrant(
    requestId: string,
    containerId: string,
    actor: Actor,
    causationId?: string,
  ): Promise<Holding[]> {
    const id = valid(
      ContainerId,
      'container',
      containerId,
      'give the full id dockerd answered the create with',
    );
    const now = this.#clock();
    await this.#handle({ type: 'BindGpuGrant', requestId, containerId: id, now }, actor, now, causationId);
    return containerSlots(await this.state(), id).filter((h) => h.requestId === requestId);
  }

  /** dockerd refused the create (or the gateway gave up): the pending grant's slots are free again. */
  async releaseGrant(requestId: string, actor: Actor, causationId?: string): Promise<ReleaseOutcome> {
    const now = this.#clock();
    const result = await this.#handle({ type: 'ReleaseGpuGrant', requestId, now }, actor, now, causationId);
    return { released: releasedSlots(result.events) };
  }

  async allocate(input: AllocateInput, actor: Actor): Promise<AllocationOutcome> {
    return this.#allocate(input, actor, undefined);
  }

  async #allocate(
    input: AllocateInput,
    actor: Actor,
    pendingForMs: number | undefined,
  ): Promise<AllocationOutcome> {
    const user = valid(UserName, 'user', input.user, 'give the unix user name the GPUs are for');
    const request = valid(GpuRequestSchema, 'request', input.request, 'ask for --count N or --profile P');
    const containerId =
      input.containerId === null
        ? null
        : valid(
            ContainerId,
            'container',
            input.containerId,
            'give the full id: docker inspect --format {{.Id}} NAME',
          );
    const requestId = input.requestId ?? randomUUID();
    const [limits, userStatus, inventory] = await Promise.all([
      this.#options.limits.limitsFor(user),
      this.#options.users.statusOf(user),
      this.#options.inventory.current(),
    ]);
    const now = this.#clock();
    const result = await this.#handle(
      {
        type: 'AllocateGpu',
        requestId,
        user,
        request,
        containerId,
        ...(pendingForMs === undefined || containerId !== null
          ? {}
          : { pendingUntil: new Date(now.getTime() + pendingForMs) }),
        limits,
        userStatus,
        inventory: [...inventory],
        now,
      },
      actor,
      now,
      input.causationId,
    );
    const decided = { requestId, position: result.appended!.position, retries: result.retries };
    const denial = result.events.find((e) => e.type === 'GpuAllocationDenied');
    if (denial) {
      return { granted: false, reason: denial.data.reason, message: denial.data.message, ...decided };
    }
    const slots = result.events.flatMap((e) => (e.type === 'GpuAllocated' ? [e.data] : []));
    return { granted: true, slots, ...decided };
  }

  async release(input: ReleaseInput, actor: Actor, causationId?: string): Promise<ReleaseOutcome> {
    const target =
      'slot' in input.target
        ? { slot: valid(GpuSlotId, 'slot', input.target.slot, 'see the slots with ds01 gpu status') }
        : { containerId: await this.#resolveHeldContainer(input.target.container) };
    const now = this.#clock();
    const result = await this.#handle(
      {
        type: 'ReleaseGpu',
        target,
        reason: input.reason ?? 'requested',
        ifNothingHeld: input.ifNothingHeld ?? 'fail',
        now,
      },
      actor,
      now,
      causationId,
    );
    return { released: releasedSlots(result.events) };
  }

  /** A container stopped at `stoppedAt`: hold its GPUs for its owner's gpu_hold_after_stop_h. */
  async startHold(
    containerId: string,
    stoppedAt: Date,
    actor: Actor,
    causationId?: string,
  ): Promise<GpuPoolEvent[]> {
    const holder = containerSlots(await this.state(), containerId)[0];
    if (!holder) return [];
    const { holdAfterStopHours } = await this.#options.limits.limitsFor(holder.user);
    const now = this.#clock();
    const command = { type: 'StartGpuHold' as const, containerId, stoppedAt, holdAfterStopHours, now };
    return (await this.#handle(command, actor, now, causationId)).events;
  }

  /** A container started at `startedAt`: a hold that has not run out ends. */
  async endHold(containerId: string, startedAt: Date, actor: Actor, causationId?: string) {
    const now = this.#clock();
    return (await this.#handle({ type: 'EndGpuHold', containerId, startedAt, now }, actor, now, causationId))
      .events;
  }

  /**
   * Releases the GPUs of every hold that has run out by now, except those whose container started
   * again within the hold (as its stream says): they end, so a running container keeps its GPUs even
   * when this runs before the start has reached the pool.
   */
  async expireHolds(actor: Actor): Promise<GpuPoolEvent[]> {
    const now = this.#clock();
    const lastStarts = await this.#lastStartsOfRunOutHolds(now);
    return (await this.#handle({ type: 'ExpireGpuHolds', now, lastStarts }, actor, now)).events;
  }

  /** Records the pool's devices when they differ from those last recorded (nothing otherwise). */
  async recordInventory(actor: Actor): Promise<GpuPoolEvent[]> {
    const inventory = [...(await this.#options.inventory.current())];
    const now = this.#clock();
    return (await this.#handle({ type: 'RecordPoolInventory', inventory, now }, actor, now)).events;
  }

  /** Switch-over: records what ds01-infra's containers hold (once per pool). */
  async reconcile(containers: ExistingGpuContainer[], actor: Actor): Promise<GpuPoolEvent[]> {
    const inventory = [...(await this.#options.inventory.current())];
    const now = this.#clock();
    return (await this.#handle({ type: 'ReconcileGpuPool', containers, inventory, now }, actor, now)).events;
  }

  /**
   * Decides one command at a time within this process: commands of one process would otherwise
   * all load the same revision and all but one decide again. Other processes' appends are caught
   * by the expected revision, as always.
   */
  #handle(command: GpuPoolCommand, actor: Actor, now: Date, causationId?: string) {
    const turn = this.#queue.then(() =>
      this.#handler.handle(this.stream, command, {
        actor,
        host: this.host,
        now,
        ...(causationId === undefined ? {} : { causationId }),
      }),
    );
    this.#queue = turn.catch(() => undefined);
    return turn;
  }

  /** The last ContainerStarted of each container whose hold has run out by `now` (few: read each stream). */
  async #lastStartsOfRunOutHolds(now: Date): Promise<ContainerStart[]> {
    const runOut = [...(await this.state()).holds.values()].filter(
      (hold) => hold.expiresAt !== null && Date.parse(hold.expiresAt) <= now.getTime(),
    );
    const starts: ContainerStart[] = [];
    for (const { containerId } of runOut) {
      for await (const event of this.#options.store.readStream(containerStream(containerId), {
        direction: 'backwards',
      })) {
        if (event.type !== 'ContainerStarted') continue;
        starts.push({ containerId, startedAt: new Date((event.data as { startedAt: string }).startedAt) });
        break;
      }
    }
    return starts;
  }

  /** A full id as given, or the one container holding GPUs whose id starts with the prefix. */
  async #resolveHeldContainer(given: string): Promise<string> {
    if (ContainerId.safeParse(given).success) return given;
    if (!/^[0-9a-f]{4,63}$/.test(given)) {
      throw new InvalidGpuRequestError(
        'container',
        given,
        'is not a container id',
        'give the container id (or at least its first 4 characters); `ds01 gpu status` lists them',
      );
    }
    const matches = new Set(
      [...(await this.state()).holdings.values()]
        .map((h) => h.containerId)
        .filter((id): id is string => id?.startsWith(given) ?? false),
    );
    if (matches.size === 1) return [...matches][0]!;
    throw new InvalidGpuRequestError(
      'container',
      given,
      matches.size === 0
        ? 'no container holding GPUs has an id starting so'
        : `matches ${matches.size} containers`,
      matches.size === 0
        ? '`ds01 gpu status` lists the containers that hold GPUs'
        : 'give more characters of the id',
    );
  }
}

function releasedSlots(events: readonly GpuPoolEvent[]): ReleaseOutcome['released'] {
  return events.flatMap((e) =>
    e.type === 'GpuReleased'
      ? [{ slot: e.data.slot, user: e.data.user, containerId: e.data.containerId }]
      : [],
  );
}

/** The parsed value, or InvalidGpuRequestError naming the field, the value and the schema's complaint. */
function valid<Schema extends z.ZodType>(
  schema: Schema,
  field: string,
  value: unknown,
  hint: string,
): z.output<Schema> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const where = issue.path.length > 0 ? `${field}.${issue.path.join('.')}` : field;
  throw new InvalidGpuRequestError(where, value, issue.message, hint);
}
