/**
 * How the store validates what it writes and upgrades what it reads. The domain's event catalog
 * implements it (packages/domain `eventCatalog`); the store stays free of domain knowledge.
 */
export interface EventCodec {
  /**
   * Validates an event's data against its type's current schema and returns what to store.
   * Throws EventSchemaError (unknown type, or a field that fails the schema).
   */
  encode(type: string, data: unknown): { version: number; data: unknown };
  /**
   * Turns stored data of any known version into the current version (upcasting), validated.
   * Throws EventSchemaError when the stored data cannot be read.
   */
  decode(type: string, version: number, data: unknown): { version: number; data: unknown };
}

/** A codec that accepts any JSON data as version 1: for tools that move raw events around. */
export const passthroughCodec: EventCodec = {
  encode: (_type, data) => ({ version: 1, data }),
  decode: (_type, version, data) => ({ version, data }),
};
