import type { z } from 'zod';

/**
 * Upcasters turn the data of an older version into the next one: upcasters[1] reads version 1 and
 * returns version 2, and so on up to the current version. They are pure and never fail on data that
 * passed its own version's schema when it was appended.
 */
export type Upcasters = Readonly<Record<number, (data: never) => unknown>>;

export interface EventDefinition<Type extends string = string, Schema extends z.ZodType = z.ZodType> {
  readonly type: Type;
  /** The current version: what is written, and what every older version is upcast to on read. */
  readonly version: number;
  readonly schema: Schema;
  readonly upcasters: Upcasters;
  /** Builds a domain event of this type (data is type-checked, not validated: the store validates). */
  (data: z.input<Schema>): { type: Type; data: z.output<Schema> };
}

/**
 * Declares one domain event: its type name, current schema version and zod schema. The TypeScript
 * type of the event is inferred from the schema (see EventOf), never written by hand.
 */
export function defineEvent<const Type extends string, Schema extends z.ZodType>(spec: {
  type: Type;
  version?: number;
  schema: Schema;
  upcasters?: Upcasters;
}): EventDefinition<Type, Schema> {
  const version = spec.version ?? 1;
  for (let v = 1; v < version; v++) {
    if (!spec.upcasters?.[v])
      throw new Error(`event ${spec.type}: missing upcaster from version ${v} to ${v + 1}`);
  }
  const create = (data: z.input<Schema>) => ({ type: spec.type, data: data as z.output<Schema> });
  return Object.assign(create, {
    type: spec.type,
    version,
    schema: spec.schema,
    upcasters: spec.upcasters ?? {},
  }) as EventDefinition<Type, Schema>;
}

/** The domain event (type + data) a definition describes. */
export type EventOf<Definition> =
  Definition extends EventDefinition<infer Type, infer Schema>
    ? { type: Type; data: z.output<Schema> }
    : never;
