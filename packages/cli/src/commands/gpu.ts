import { userInfo } from 'node:os';
import {
  type AllocationOutcome,
  hostAllocator,
  type LimitsSource,
  limitsFromConfigDir,
  type ReleaseOutcome,
} from '@ds01/allocation';
import { formatGpuEquivalents, type GpuRequest } from '@ds01/domain';
import {
  allocationProjection,
  type HoldingHistoryRow,
  holdingsAt,
  reconciliationProblems,
  SlotStatusRow,
  slotStatus,
  UserHoldingRow,
  userHoldings,
} from '@ds01/projections';
import { type Command, Option } from 'commander';
import { z } from 'zod';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import type { Ds01ApiClient } from '../gateway/ds01ApiClient.ts';
import type { Column } from '../output/table.ts';
import { relativeTime } from '../output/time.ts';
import { parseMoment, positiveInteger } from './parse.ts';

/** Exit code of `ds01 gpu allocate` when the request was decided and denied (1 is any other error). */
const DENIED_EXIT_CODE = 3;

export function register(program: Command, context: CliContext): void {
  const gpu = program
    .command('gpu')
    .description(
      'GPU allocation: ask for GPUs, give them back, see who holds what (now or at any past moment)',
    );

  gpu
    .command('allocate')
    .description('allocate GPU slots to a user, decided on the pool and recorded in the log')
    .requiredOption('--user <name>', 'who the GPUs are for (unix user name)')
    .addOption(
      new Option('--count <n>', 'how many devices (any profile the user may have)').argParser(
        positiveInteger,
      ),
    )
    .option('--profile <profile>', 'a MIG profile (e.g. 3g.40gb), or "full" for a whole GPU')
    .option('--container <id>', 'the full id of the container the GPUs are for')
    .option('--json', 'print the decision as one JSON document')
    .addHelpText(
      'after',
      `
The decision is taken on this host's pool (stream gpu-pool-<host>) against the user's limits in
resource-limits.yaml (max_gpu_equivalents, max_gpu_slots_per_container, allow_full_gpu, the group's
aggregate gpu_limit). Every decision is an event: a grant (GpuAllocated) or a denial with its reason
(GpuAllocationDenied). A denied request exits with code ${DENIED_EXIT_CODE} and says what to do next.

Without --count or --profile, one device is asked for. A request for any device prefers a MIG slot
to a whole GPU (whole GPUs stay free for work that needs one) and the least loaded GPU.

Examples:
  ds01 gpu allocate --user alice --profile 3g.40gb --container 3f2a…(64 hex)
  ds01 gpu allocate --user bob --count 2
  ds01 gpu allocate --user carol --profile full --json`,
    )
    .action(
      async (options: {
        user: string;
        count?: number;
        profile?: string;
        container?: string;
        json?: boolean;
      }) => {
        const request: GpuRequest = { count: options.count ?? 1, profile: options.profile ?? null };
        const allocator = hostAllocator({
          store: await context.store({ write: true }),
          config: context.config(),
        });
        const outcome = await allocator.allocate(
          { user: options.user, request, containerId: options.container ?? null },
          cliActor(),
        );
        if (options.json) context.output.json(outcome);
        else if (outcome.granted) printGrant(context, outcome);
        if (!outcome.granted) {
          throw new CliError(`denied: ${outcome.message}`, { exitCode: DENIED_EXIT_CODE });
        }
      },
    );

  gpu
    .command('release')
    .description('give back the GPUs of a container, or one slot')
    .option('--container <id>', 'the container (its id, or the first characters of it)')
    .option('--slot <slot>', 'one slot, e.g. 2 or 1.3')
    .option('--json', 'print what was released as one JSON document')
    .addHelpText(
      'after',
      `
Examples:
  ds01 gpu release --container 3f2a9c
  ds01 gpu release --slot 1.3`,
    )
    .action(async (options: { container?: string; slot?: string; json?: boolean }) => {
      if (!options.container === !options.slot) {
        throw new CliError(options.container ? 'give --container or --slot, not both' : 'what to release?', {
          hint: 'ds01 gpu release --container ID, or --slot S (ds01 gpu status lists both)',
        });
      }
      const allocator = hostAllocator({
        store: await context.store({ write: true }),
        config: context.config(),
      });
      const target = options.container ? { container: options.container } : { slot: options.slot! };
      const outcome = await allocator.release({ target }, cliActor());
      if (options.json) context.output.json(outcome);
      else printRelease(context, outcome);
    });

  gpu
    .command('status')
    .description(
      'every GPU slot of this host: profile, holder, container, since, hold; per user: held of quota',
    )
    .option('--json', 'one JSON document')
    .action(async (options: { json?: boolean }) => {
      const api = context.gatewayApi();
      if (api) return printOwnGpus(context, api, options);
      const readModel = await context.freshReadModel(allocationProjection);
      const { host } = context.config();
      const slots = slotStatus(readModel, host);
      const users = await withQuotas(userHoldings(readModel, host), quotaSource(context));
      const problems = reconciliationProblems(readModel, host);
      if (options.json) {
        context.output.json({ host, slots, users, problems });
        return;
      }
      const now = new Date();
      context.output.line(`GPU pool of ${host}`);
      context.output.table(slotColumns(now), slots, '(no GPU inventory recorded yet: is ds01d running?)');
      context.output.line();
      context.output.table(userColumns, users, '(nobody holds a GPU)');
      if (problems.length > 0) {
        context.output.line();
        context.output.line(`switch-over from ds01-infra found ${problems.length} problem(s) to look at:`);
        for (const p of problems) context.output.line(`  ${p.problem}: ${p.detail}`);
      }
    });

  gpu
    .command('who')
    .description('who held which GPU slot at a past moment, from the log')
    .requiredOption(
      '--at <time>',
      'the moment: an ISO time (2026-03-02T14:30Z), a date and time, or e.g. "2h ago"',
    )
    .option('--slot <slot>', 'only this slot')
    .option('--json', 'one JSON document')
    .addHelpText(
      'after',
      `
Examples:
  ds01 gpu who --at 2026-03-02T14:30:00Z
  ds01 gpu who --at "2026-03-02 14:30" --slot 1.3
  ds01 gpu who --at "3d ago" --json`,
    )
    .action(async (options: { at: string; slot?: string; json?: boolean }) => {
      const at = parseMoment(options.at, new Date());
      const readModel = await context.freshReadModel(allocationProjection);
      const { host } = context.config();
      const rows = holdingsAt(readModel, at, { host, ...(options.slot ? { slot: options.slot } : {}) });
      if (options.json) {
        context.output.json({ host, at: at.toISOString(), holdings: rows });
        return;
      }
      context.output.line(`GPU slots of ${host} held at ${at.toISOString()}`);
      context.output.table(historyColumns, rows, '(no slot was held then)');
    });
}

function cliActor() {
  return { kind: 'user' as const, name: userInfo().username };
}

/** Quotas for the status table; unreadable limits leave the column unknown rather than failing it. */
function quotaSource(context: CliContext): LimitsSource | null {
  try {
    return limitsFromConfigDir(context.config().paths.configDir);
  } catch {
    return null;
  }
}

interface UserRow extends UserHoldingRow {
  quota: number | null | undefined;
}

async function withQuotas(rows: UserHoldingRow[], limits: LimitsSource | null): Promise<UserRow[]> {
  return Promise.all(
    rows.map(async (row) => {
      try {
        return { ...row, quota: limits ? (await limits.limitsFor(row.user)).quotaGpuEquivalents : undefined };
      } catch {
        return { ...row, quota: undefined };
      }
    }),
  );
}

/** What the gateway tells an ordinary user: their slots, how many are free, what they hold of their quota. */
const OwnGpus = z.object({
  host: z.string(),
  user: z.string().nullable(),
  slots: z.array(SlotStatusRow),
  free: z.number().int(),
  held: z.array(UserHoldingRow),
  quotaGpuEquivalents: z.number().nullable().optional(),
});

async function printOwnGpus(
  context: CliContext,
  api: Ds01ApiClient,
  options: { json?: boolean },
): Promise<void> {
  const gpus = await api.get(OwnGpus, '/ds01/v1/gpus');
  if (options.json) {
    context.output.json(gpus);
    return;
  }
  context.output.line(`GPU pool of ${gpus.host}: ${gpus.free} slot${gpus.free === 1 ? '' : 's'} free`);
  context.output.table(slotColumns(new Date()), gpus.slots, `(${gpus.user ?? 'you'} hold no GPU)`);
  const held = gpus.held.reduce((sum, row) => sum + row.gpu_equivalents, 0);
  const quota = gpus.quotaGpuEquivalents;
  context.output.line();
  context.output.line(
    `you hold ${formatGpuEquivalents(held)} of ${quota === undefined ? '?' : quota === null ? 'unlimited' : formatGpuEquivalents(quota)} GPU-equivalents`,
  );
}

function printGrant(context: CliContext, outcome: Extract<AllocationOutcome, { granted: true }>): void {
  const [first] = outcome.slots;
  context.output.line(
    `granted ${outcome.slots.length} GPU slot${outcome.slots.length === 1 ? '' : 's'} to ${first?.user} (request ${outcome.requestId}):`,
  );
  context.output.table(
    [
      { header: 'slot', value: (s) => s.slot },
      { header: 'profile', value: (s) => s.profile },
      { header: 'gpu-eq', value: (s) => formatGpuEquivalents(s.gpuEquivalents), align: 'right' },
      { header: 'device', value: (s) => s.deviceId },
    ],
    outcome.slots,
  );
  context.output.line(`docker: --gpus '"device=${outcome.slots.map((s) => s.deviceId).join(',')}"'`);
}

function printRelease(context: CliContext, outcome: ReleaseOutcome): void {
  for (const r of outcome.released) {
    context.output.line(
      `released slot ${r.slot} (${r.user ?? 'unknown owner'}${r.containerId ? `, container ${r.containerId.slice(0, 12)}` : ''})`,
    );
  }
}

function slotColumns(now: Date): Column<SlotStatusRow>[] {
  return [
    { header: 'slot', value: (r) => (r.in_inventory ? r.slot : `${r.slot}*`) },
    { header: 'profile', value: (r) => r.profile },
    { header: 'gpu-eq', value: (r) => formatGpuEquivalents(r.gpu_equivalents), align: 'right' },
    { header: 'user', value: (r) => (r.since === null ? 'free' : (r.user ?? '(unknown owner)')) },
    { header: 'container', value: (r) => r.container_id?.slice(0, 12) ?? '' },
    { header: 'since', value: (r) => (r.since ? relativeTime(r.since, now) : '') },
    {
      header: 'hold',
      value: (r) =>
        r.hold_stopped_at === null
          ? ''
          : r.hold_expires_at === null
            ? 'stopped: held until removed'
            : `stopped: released ${relativeTime(r.hold_expires_at, now)}`,
    },
  ];
}

const userColumns: Column<UserRow>[] = [
  { header: 'user', value: (r) => r.user ?? '(unknown owner)' },
  { header: 'slots', value: (r) => String(r.slots), align: 'right' },
  {
    header: 'gpu-eq held',
    value: (r) =>
      `${formatGpuEquivalents(r.gpu_equivalents)} of ${
        r.quota === undefined ? '?' : r.quota === null ? 'unlimited' : formatGpuEquivalents(r.quota)
      }`,
  },
];

const historyColumns: Column<HoldingHistoryRow>[] = [
  { header: 'slot', value: (r) => r.slot },
  { header: 'profile', value: (r) => r.profile },
  { header: 'user', value: (r) => r.user ?? '(unknown owner)' },
  { header: 'container', value: (r) => r.container_id?.slice(0, 12) ?? '' },
  { header: 'since', value: (r) => r.since },
  { header: 'until', value: (r) => (r.until ? `${r.until} (${r.release_reason})` : 'still held') },
];
