import { type Projection, ProjectionRunner, type ReadModel } from '@ds01/projections';
import { readDaemonLock } from '@ds01/service';
import type { CliContext } from '../context.ts';

/**
 * The read models, with these projections brought up to the log's head first when no ds01d keeps
 * them (only the events they read); with ds01d running they are at most one batch behind.
 */
export async function freshReadModel(
  context: CliContext,
  projections: readonly Projection[],
): Promise<ReadModel> {
  const { paths } = context.config();
  if (!readDaemonLock(paths.daemonLock)) {
    const runner = new ProjectionRunner({
      store: await context.store(),
      db: context.projectionsDb(),
      projections,
    });
    runner.prepare();
    await runner.catchUp({ only: projections.map((p) => p.name) });
  }
  return context.readModel();
}
