import { createHash } from 'node:crypto';
import type { DockerEventRef } from './events.ts';

/**
 * Deterministic event ids: the same fact always gets the same id, so appending it again (a watcher
 * re-reading Docker's events after a restart, a second reconciliation of the same state) is a no-op in
 * the store. UUID version 5 (RFC 9562: SHA-1 of a namespace and a name).
 */

/** DS01's namespace for container event ids (a fixed random UUID). */
const CONTAINER_EVENTS_NAMESPACE = 'a3f1d2c4-5b6e-4f70-8a91-b2c3d4e5f601';

export function uuidV5(name: string, namespace: string = CONTAINER_EVENTS_NAMESPACE): string {
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replaceAll('-', ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50; // version 5
  hash[8] = (hash[8]! & 0x3f) | 0x80; // RFC variant
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The id of a domain event derived from one Docker event (one Docker event may give several types). */
export function observedEventId(ref: DockerEventRef, eventType: string): string {
  return uuidV5(`observed|${ref.id}|${ref.timeNano}|${ref.action}|${eventType}`);
}

/**
 * The id of a reconciled fact: the container, what was reconciled and the state it was found in (for
 * example the StartedAt of the start that was missed), so reconciling the same state twice is a no-op.
 */
export function reconciledEventId(containerId: string, eventType: string, stateKey: string): string {
  return uuidV5(`reconciled|${containerId}|${eventType}|${stateKey}`);
}
