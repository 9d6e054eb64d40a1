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
  /**
   * Optional: as decode, but data stored at its type's current version is returned as it is, not
   * parsed by the schema again: the store wrote the schema's own output, validated by that very
   * version, when it was appended. Older versions are upcast and validated as by decode; an unknown
   * type or a newer version still throws. For bulk replays (`revalidate: false` on a read), where
   * the second parse is most of the cost.
   */
  decodeStored?(type: string, version: number, data: unknown): { version: number; data: unknown };
}

/** A codec that accepts any JSON data as version 1: for tools that move raw events around. */
export const passthroughCodec: EventCodec = {
  encode: (_type, data) => ({ version: 1, data }),
  decode: (_type, version, data) => ({ version, data }),
  decodeStored: (_type, version, data) => ({ version, data }),
};
