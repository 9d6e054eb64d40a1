import type { Command } from 'commander';
import { requireAdmin } from '../admin.ts';
import type { CliContext } from '../context.ts';
import { readDashboard, renderDashboard } from './adminDashboard.ts';

const REDRAW_MS = 2_000;

export function register(program: Command, context: CliContext): void {
  const admin = program.command('admin').description("admins' views of the whole server");
  admin
    .command('dashboard')
    .description(
      'the server now: GPU slots and holders, users and limits, idle, retirements, unmanaged, host GPU processes',
    )
    .option('--watch', 'redraw every 2 s until Ctrl-C')
    .option('--json', 'the dashboard as one JSON document')
    .action(async (options: { watch?: boolean; json?: boolean }) => {
      requireAdmin('admin dashboard');
      if (!options.watch) {
        await show(context, options.json ?? false);
        return;
      }
      // Redraws until Ctrl-C; the interruption exits 130 as every stoppable command does.
      for (;;) {
        if (!options.json) process.stdout.write('\x1b[H\x1b[2J');
        await show(context, options.json ?? false);
        await new Promise((resolve) => setTimeout(resolve, REDRAW_MS));
      }
    });
}

async function show(context: CliContext, json: boolean): Promise<void> {
  const dashboard = await readDashboard(context);
  if (json) context.output.json(dashboard);
  else process.stdout.write(`${renderDashboard(dashboard).join('\n')}\n`);
}
