import { allocationEvents } from './allocation/events.ts';
import { auditEvents } from './audit/events.ts';
import { containerEvents } from './containers/events.ts';
import { historyGapEvents } from './containers/historyGap.ts';
import { ownershipEvents } from './containers/ownershipOverride.ts';
import { EventCatalog } from './events/catalog.ts';
import type { EventOf } from './events/defineEvent.ts';
import { gatewayEvents } from './gateway/events.ts';
import { gpuHealthEvents } from './gpuHealth/events.ts';
import { hostProcessEvents } from './hostProcesses/events.ts';
import { imageEvents } from './images/events.ts';
import { inventoryEvents } from './inventory/events.ts';
import { legacyEvents } from './legacy/events.ts';
import { lifecycleEvents } from './lifecycle/events.ts';
import { notificationEvents } from './notifications/events.ts';
import { policyEvents } from './policy/events.ts';
import { usageWindowEvents } from './telemetry/events.ts';
import { userEvents } from './users/events.ts';

/** Every domain event of DS01. A new concept adds its events file here. */
const allEvents = [
  ...containerEvents,
  ...historyGapEvents,
  ...ownershipEvents,
  ...allocationEvents,
  ...userEvents,
  ...policyEvents,
  ...hostProcessEvents,
  ...inventoryEvents,
  ...gatewayEvents,
  ...imageEvents,
  ...usageWindowEvents,
  ...gpuHealthEvents,
  ...lifecycleEvents,
  ...notificationEvents,
  ...auditEvents,
  ...legacyEvents,
] as const;

export const eventCatalog = new EventCatalog(allEvents);

/** The union of every domain event (type + data), inferred from the schemas. */
export type Ds01Event = EventOf<(typeof allEvents)[number]>;
