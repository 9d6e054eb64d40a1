import { existsSync } from 'node:fs';
import { allProjections, type Checkpoint, type ProjectionHealth, projectionHealth } from '@ds01/projections';
import type { CliContext } from '../context.ts';
import type { Column } from '../output/table.ts';
import { relativeTime } from '../output/time.ts';

export type ProjectionRow = ProjectionHealth;

/** Every registered projection against the log (works before the read models exist). */
export async function projectionRows(context: CliContext): Promise<ProjectionRow[]> {
  const store = await context.store();
  const checkpoints: ReadonlyMap<string, Checkpoint> = existsSync(context.config().paths.projectionsDb)
    ? context.readModel().checkpoints()
    : new Map();
  return projectionHealth(store, allProjections, checkpoints);
}

export const projectionColumns: readonly Column<ProjectionRow>[] = [
  { header: 'projection', value: (p) => p.name },
  { header: 'version', value: (p) => versionText(p), align: 'right' },
  { header: 'position', value: (p) => String(p.position), align: 'right' },
  { header: 'lag', value: (p) => `${p.lag}${p.lagIsLowerBound ? '+' : ''}`, align: 'right' },
  { header: 'updated', value: (p) => (p.updatedAt ? relativeTime(p.updatedAt) : '-') },
  { header: 'state', value: (p) => (p.error ? `failed: ${p.error}` : p.state), shrink: true },
];

function versionText(row: ProjectionRow): string {
  if (row.storedVersion === null || row.storedVersion === row.version) return String(row.version);
  return `${row.storedVersion}→${row.version}`;
}
