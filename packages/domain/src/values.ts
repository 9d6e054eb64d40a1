import { z } from 'zod';

/** Names shared by many events. One definition each, so that every event spells them alike. */

/** A unix username as the lab writes it; domain accounts keep their `@domain` (ds01-infra does too). */
export const UserName = z.string().min(1).max(256);

/** Docker's full 64-hex container id. */
export const ContainerId = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'must be a full 64-character Docker container id');

/**
 * A GPU slot as ds01-infra names it: a full GPU by its index ("2"), a MIG slot as
 * "<gpu index>.<device index of nvidia-smi -L>" ("1.2").
 */
export const GpuSlotId = z
  .string()
  .regex(/^\d+(\.\d+)?$/, 'must be a GPU index ("2") or "<gpu>.<mig device>" ("1.2")');

/**
 * A MIG profile as nvidia-smi -L names it ("1g.10gb", "3g.40gb", "1g.10gb+me", "1g.24gb+gfx", or
 * "1c.3g.71gb" for one compute instance of a shared GPU instance), or "full" for a whole GPU.
 */
export const GpuProfile = z
  .string()
  .regex(/^(full|(\d+c\.)?\d+g\.\d+gb(\+[a-z]+)*)$/, 'must be "full" or a MIG profile like "3g.40gb"');

export const Instant = z.iso.datetime({ offset: true });

/** How DS01 learned a fact: it saw it happen, or found it afterwards by comparing with the host. */
export const Observation = z.enum(['observed', 'reconciled']);
export type Observation = z.infer<typeof Observation>;
