import { z } from 'zod';
import type { ReadModel } from '../runner/readModel.ts';

const OwnerRow = z.object({ owner: z.string().nullable() });

/** The owner of a container as the containers projection has it (null: unknown container or no owner). */
export function containerOwner(readModel: ReadModel, containerId: string): string | null {
  return (
    readModel.query(OwnerRow, 'SELECT owner FROM containers WHERE container_id = ?', containerId)[0]?.owner ??
    null
  );
}
