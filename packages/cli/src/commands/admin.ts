import { CONTAINER_ROW_COLUMNS, ContainerRow } from '@ds01/projections';
import type { Command } from 'commander';
import { requireAdmin } from '../admin.ts';
import type { CliContext } from '../context.ts';

/** The dashboard fits a plain terminal: wider lines are cut with an ellipsis. */
const WIDTH = 80;
const REDRAW_MS = 2_000;

export interface Dashboard {
  at: string;
  users: { user: string; containers: { name: string; status: string; gpu: string }[] }[];
  idle: { name: string; owner: string | null; idleSince: string }[];
  unmanaged: { name: string; status: string; gpu: string }[];
}

export function register(program: Command, context: CliContext): void {
  const admin = program.command('admin').description("admins' views of the whole server");
  admin
    .command('dashboard')
    .description('the server now, from the read models: users and their containers, idle, unmanaged')
    .option('--watch', 'redraw every 2 s until Ctrl-C')
    .option('--json', 'the dashboard as one JSON document')
    .action(async (options: { watch?: boolean; json?: boolean }) => {
      requireAdmin('admin dashboard');
      if (!options.watch) {
        show(context, options.json ?? false);
        return;
      }
      // Redraws until Ctrl-C; the interruption exits 130 as every stoppable command does.
      for (;;) {
        if (!options.json) process.stdout.write('\x1b[H\x1b[2J');
        show(context, options.json ?? false);
        await new Promise((resolve) => setTimeout(resolve, REDRAW_MS));
      }
    });
}

function show(context: CliContext, json: boolean): void {
  const dashboard = readDashboard(context);
  if (json) context.output.json(dashboard);
  else process.stdout.write(`${renderDashboard(dashboard).join('\n')}\n`);
}

export function readDashboard(context: CliContext, now = new Date()): Dashboard {
  const rows = context
    .readModel()
    .query(
      ContainerRow,
      `SELECT ${CONTAINER_ROW_COLUMNS} FROM containers WHERE status <> 'removed' ORDER BY owner, name`,
    );
  const byUser = new Map<string, Dashboard['users'][number]['containers']>();
  for (const row of rows.filter((r) => r.owner && !r.unmanaged)) {
    const list = byUser.get(row.owner!) ?? [];
    list.push({ name: row.name, status: row.status, gpu: row.gpu });
    byUser.set(row.owner!, list);
  }
  return {
    at: now.toISOString(),
    users: [...byUser].map(([user, containers]) => ({ user, containers })),
    idle: rows
      .filter((r) => r.idle_since)
      .map((r) => ({ name: r.name, owner: r.owner, idleSince: r.idle_since! })),
    unmanaged: rows.filter((r) => r.unmanaged).map((r) => ({ name: r.name, status: r.status, gpu: r.gpu })),
  };
}

export function renderDashboard(d: Dashboard): string[] {
  const lines = [`DS01 dashboard at ${d.at}`, '', 'USERS AND CONTAINERS'];
  if (d.users.length === 0) lines.push('  (none)');
  for (const u of d.users) {
    lines.push(`  ${u.user} (${u.containers.length})`);
    for (const c of u.containers) lines.push(`    ${c.name}  ${c.status}  gpu ${c.gpu || '-'}`);
  }
  lines.push('', 'IDLE CONTAINERS');
  if (d.idle.length === 0) lines.push('  (none)');
  for (const c of d.idle) lines.push(`  ${c.name}  ${c.owner ?? '?'}  idle since ${c.idleSince}`);
  lines.push('', 'UNMANAGED CONTAINERS');
  if (d.unmanaged.length === 0) lines.push('  (none)');
  for (const c of d.unmanaged) lines.push(`  ${c.name}  ${c.status}  gpu ${c.gpu || '-'}`);
  return lines.map(fit);
}

function fit(line: string): string {
  return line.length <= WIDTH ? line : `${line.slice(0, WIDTH - 1)}…`;
}
