import { createHash, randomBytes } from 'node:crypto';

/**
 * Event ids are UUIDs version 7 (RFC 9562): the first 48 bits are a Unix time in milliseconds.
 * Ids made one after the other sort together, so the log's unique index on event ids grows at its
 * end instead of touching a random page per event (random v4 ids make every batched append
 * rewrite pages all over that index: three times slower on a large log, measured in bench/).
 */

/** A new, unique event id for a fact happening now. */
export function newEventId(now: number = Date.now()): string {
  return uuidV7(now, randomBytes(16));
}

/**
 * The same id every time for the same fact: for writers that may see a fact twice (a watcher
 * re-reading Docker's event stream after a restart) and rely on idempotent appends. `identity`
 * names the fact (e.g. container id, action and Docker's timeNano); `at` is when it happened.
 */
export function eventIdFor(at: Date | number, identity: string): string {
  const time = typeof at === 'number' ? at : at.getTime();
  return uuidV7(time, createHash('sha256').update(identity).digest());
}

function uuidV7(unixMs: number, entropy: Buffer): string {
  const bytes = Buffer.from(entropy.subarray(0, 16));
  bytes.writeUIntBE(Math.max(0, Math.floor(unixMs)) % 2 ** 48, 0, 6);
  bytes[6] = 0x70 | (bytes[6]! & 0x0f); // version 7
  bytes[8] = 0x80 | (bytes[8]! & 0x3f); // RFC 9562 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
