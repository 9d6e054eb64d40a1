import { ContainerInterface, containerStream, OwnerRule, ownershipSummary } from '@ds01/domain';
import type { RecordedEvent } from '@ds01/event-store';
import { CONTAINER_ROW_COLUMNS, ContainerRow } from '@ds01/projections';
import { type Command, Option } from 'commander';
import { z } from 'zod';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import type { Ds01ApiClient } from '../gateway/ds01ApiClient.ts';
import { summarizeData } from '../output/summary.ts';
import type { Column } from '../output/table.ts';
import { relativeTime } from '../output/time.ts';

interface ListOptions {
  host?: string;
  user?: string;
  all?: boolean;
  interface?: string;
  json?: boolean;
}

export function register(program: Command, context: CliContext): void {
  const containers = program
    .command('containers')
    .description(
      'every container DS01 watches: who owns it (and how DS01 knows), what made it, its GPUs, its host',
    );
  containers
    .command('list', { isDefault: true })
    .description('list containers (the default: `ds01 containers` lists)')
    .option('--host <name>', 'only containers of this host (default: every host on the log)')
    .option('--user <name>', 'only containers owned by this user')
    .option('-a, --all', 'also containers that were removed')
    .addOption(
      new Option('--interface <interface>', 'only containers made through this interface').choices(
        ContainerInterface.options,
      ),
    )
    .option('--json', 'the rows as one JSON array')
    .addHelpText(
      'after',
      `
Run by an ordinary user whose DOCKER_HOST (or DS01_SOCKET) is their DS01 socket, it asks the
gateway and lists their own containers only.

OWNER says how far it can be trusted. "verified: gateway": created through the user's own gateway
socket. Anything else is a claim the container's creator wrote, "claimed by label", "by path", ...,
with the rule that read it, in ds01-infra's words: ds01_label, aime_label (legacy aime.mlc.*
labels), devcontainer, compose_dir (a /home/<user> folder the user owns), cgroup_slice,
container_name (<name>._.<uid>), mount_path (a folder of theirs mounted), container_uid; a claim is
never charged to anyone's quota. "unknown" when nothing said.
UNMANAGED marks containers that did not come through DS01. When several hosts share one log (see the
README: several servers, one log), every host's containers are listed, with a HOST column.

Examples:
  ds01 containers                          containers that exist now
  ds01 containers --user alice --all       everything alice ever ran
  ds01 containers --interface vscode       dev containers
  ds01 containers --host gpu02             the containers of one host
  ds01 containers show my-notebook         one container's history`,
    )
    .action(async (options: ListOptions) => {
      const api = context.gatewayApi();
      const rows = api ? await listOwnContainers(api, options) : listContainers(context, options);
      if (options.json) {
        context.output.json(rows);
        return;
      }
      const hosts = new Set(rows.map((row) => row.host));
      context.output.table(listColumns(new Date(), hosts.size > 1), rows, emptyMessage(options));
    });

  containers
    .command('show')
    .description("one container's details and its full history from the log")
    .argument('<container>', 'container id (or its first characters) or name')
    .option('--json', 'the container and its events as one JSON document')
    .action(async (ref: string, options: { json?: boolean }) => {
      const row = findContainer(context, ref);
      const store = await context.store();
      const events: RecordedEvent[] = [];
      for await (const event of store.readStream(containerStream(row.container_id))) events.push(event);
      if (options.json) {
        context.output.json({ container: row, events });
        return;
      }
      context.output.fields([
        ['container', row.container_id],
        ['host', row.host],
        ['name', row.name],
        ['state', row.status],
        ['owner', ownerOf(row)],
        ['interface', `${row.interface ?? '?'}, type ${row.type ?? '?'}`],
        [
          'managed',
          !isDescribed(row)
            ? '?'
            : row.managed
              ? 'yes'
              : row.infrastructure
                ? 'no (infrastructure)'
                : 'no (unmanaged)',
        ],
        ['image', row.image ?? '?'],
        ['gpu', row.gpu],
        ['created', row.created_at ?? '?'],
        ['idle since', row.idle_since ?? '-'],
      ]);
      context.output.line();
      // In the order things happened: a description is recorded when dockerd answers inspect, which
      // can be after the container's start (the stream keeps the order DS01 learned them; --json too).
      const history = events.toSorted((a, b) => a.metadata.occurredAt.localeCompare(b.metadata.occurredAt));
      context.output.table(historyColumns, history, '(no events of this container in the log)');
    });
}

/** An ordinary user's list, through their gateway socket: their own containers, nobody else's. */
async function listOwnContainers(api: Ds01ApiClient, options: ListOptions): Promise<ContainerRow[]> {
  const rows = await api.get(z.array(ContainerRow), `/ds01/v1/containers${options.all ? '?all=1' : ''}`);
  return rows.filter(
    (row) =>
      (!options.interface || row.interface === options.interface) &&
      (!options.user || row.owner === options.user),
  );
}

function listContainers(context: CliContext, options: ListOptions): ContainerRow[] {
  const where: string[] = [];
  const params: string[] = [];
  if (!options.all) where.push("status <> 'removed'");
  if (options.host) {
    where.push('host = ?');
    params.push(options.host);
  }
  if (options.user) {
    where.push('owner = ?');
    params.push(options.user);
  }
  if (options.interface) {
    where.push('interface = ?');
    params.push(options.interface);
  }
  const sql =
    `SELECT ${CONTAINER_ROW_COLUMNS} FROM containers` +
    (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
    ' ORDER BY created_at DESC, name';
  return context.readModel().query(ContainerRow, sql, ...params);
}

function emptyMessage(options: ListOptions): string {
  const filters = [
    options.host && `of host ${options.host}`,
    options.user && `owned by ${options.user}`,
    options.interface && `made through ${options.interface}`,
  ]
    .filter(Boolean)
    .join(', ');
  return filters
    ? `(no containers ${filters}${options.all ? '' : '; --all includes removed ones'})`
    : '(no containers seen yet: is ds01d running with the docker watcher?)';
}

/** By name (the live one first), or full id or id prefix (4+ characters); several matches: an error listing them. */
function findContainer(context: CliContext, ref: string): ContainerRow {
  const query = (where: string, param: string) =>
    context
      .readModel()
      .query(
        ContainerRow,
        `SELECT ${CONTAINER_ROW_COLUMNS} FROM containers WHERE ${where} ORDER BY created_at DESC`,
        param,
      );
  const byName = query('name = ?', ref);
  const liveByName = byName.filter((r) => r.status !== 'removed');
  if (liveByName.length === 1) return liveByName[0]!;
  const byId = /^[0-9a-f]{4,64}$/.test(ref) ? query('container_id LIKE ?', `${ref}%`) : [];
  const candidates = byName.length > 0 ? byName : byId;
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.length === 0) {
    throw new CliError(`no container '${ref}' in DS01's records`, {
      hint: 'give a name or an id (4+ characters) from `ds01 containers --all`',
    });
  }
  throw new CliError(`'${ref}' matches ${candidates.length} containers`, {
    hint: `give the id of one: ${candidates.map((r) => `${r.container_id.slice(0, 12)} (${r.name}, ${r.status})`).join(', ')}`,
  });
}

/** The host column only when the rows come from several hosts: one server's lab does not need it. */
function listColumns(now: Date, withHost: boolean): Column<ContainerRow>[] {
  return [
    ...(withHost ? [{ header: 'host', value: (r: ContainerRow) => r.host }] : []),
    { header: 'container', value: (r) => r.container_id.slice(0, 12) },
    { header: 'name', value: (r) => r.name, shrink: true },
    { header: 'owner', value: ownerOf, shrink: true },
    { header: 'interface', value: (r) => r.interface ?? '?' },
    { header: 'type', value: (r) => r.type ?? '?' },
    {
      header: 'state',
      value: (r) => (r.status === 'exited' && r.exit_code !== null ? `exited (${r.exit_code})` : r.status),
    },
    { header: 'gpu', value: (r) => r.gpu },
    {
      header: 'age',
      value: (r) => (r.created_at ? relativeTime(r.created_at, now).replace(' ago', '') : '?'),
      align: 'right',
    },
    { header: 'idle since', value: (r) => (r.idle_since ? relativeTime(r.idle_since, now) : '-') },
    {
      header: 'managed',
      value: (r) => (!isDescribed(r) ? '?' : r.managed ? 'yes' : r.infrastructure ? 'infra' : 'UNMANAGED'),
    },
  ];
}

/** DS01 has recorded its description (ContainerDescribed): interface, type and GPUs are known. */
function isDescribed(row: ContainerRow): boolean {
  return row.type !== null;
}

/**
 * "alice (verified: gateway)", "bob (claimed by label: ds01_label)", "unknown": a claim its creator
 * wrote is never shown as a fact. A verified owner (the gateway's record) may come before the
 * description; a container with neither says it has not been described yet.
 */
function ownerOf(row: ContainerRow): string {
  if (row.owner_rule === null) return 'not described yet';
  if (row.owner === null) return 'unknown';
  const summary = ownershipSummary({
    rule: OwnerRule.catch('unknown').parse(row.owner_rule),
    verified: row.owner_verified === 1,
  });
  return `${row.owner} (${summary})`;
}

const historyColumns: Column<RecordedEvent>[] = [
  { header: 'time', value: (e) => e.metadata.occurredAt },
  { header: 'event', value: (e) => e.type },
  { header: 'how', value: (e) => (e.data as { observation?: string }).observation ?? '-' },
  { header: 'details', value: (e) => summarizeData(withoutRef(e.data)), shrink: true },
];

/** What the history's other columns already say (or is too long for a line) left out of the details. */
function withoutRef(data: unknown): unknown {
  if (data === null || typeof data !== 'object') return data;
  const {
    containerId: _id,
    observation: _o,
    dockerEvent: _d,
    snapshot: _s,
    dockerTimeNano: _t,
    labels: _l,
    limits: _lim,
    ...rest
  } = data as Record<string, unknown>;
  return rest;
}
