import { channelsOf, type NotificationsConfig } from '@ds01/config';
import { NotificationFailed, NotificationSent, notificationsStream } from '@ds01/domain';
import {
  type Actor,
  type EventStore,
  eventIdFor,
  type FailureLogger,
  type RecordedEvent,
  type Subscription,
  silentLogger,
} from '@ds01/event-store';
import type { Channel } from './channels/channel.ts';
import { messageOf, NOTIFIED_EVENTS } from './messages.ts';

export interface NotifierOptions {
  store: EventStore;
  config: NotificationsConfig;
  channels: readonly Channel[];
  host: string;
  now?: () => Date;
  logger?: FailureLogger;
}

/**
 * Tells users what concerns them — each RetirementWarned before a retirement, a GpuAllocationDenied,
 * a HostGpuProcessDetected — on the channels they chose (ds01.yaml notifications: `channels`,
 * `users.<name>.channels`), and records each delivery: NotificationSent or NotificationFailed on
 * `notifications-<user>`, naming the event it is about. At start it reads which events were already
 * told (the log is its checkpoint) and follows the rest. Delivered at least once: a crash between a
 * delivery and its record tells that one event again (the record's id is derived from the event, the
 * channel and the target, so the record itself is never doubled).
 */
export class Notifier {
  readonly #options: NotifierOptions;
  readonly #actor: Actor = { kind: 'service', name: 'notifier' };
  readonly #logger: FailureLogger;
  readonly #told = new Set<string>();
  #subscription: Subscription | undefined;
  #loop: Promise<void> | undefined;
  #handled = 0;
  #waiters: { count: number; resolve: () => void }[] = [];

  constructor(options: NotifierOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
  }

  async start(): Promise<void> {
    for await (const event of this.#options.store.readAll({
      filter: { eventTypes: ['NotificationSent', 'NotificationFailed'] },
    })) {
      this.#told.add((event.data as { source: { eventId: string } }).source.eventId);
    }
    this.#subscription = this.#options.store.subscribeToAll({
      after: 0,
      filter: { eventTypes: [...NOTIFIED_EVENTS] },
    });
    this.#loop = this.#follow(this.#subscription);
  }

  async stop(): Promise<void> {
    await this.#subscription?.close();
    await this.#loop;
  }

  /** Resolves once `count` events to notify of have been handled since start (for tests). */
  handled(count: number): Promise<void> {
    if (this.#handled >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  async #follow(subscription: Subscription): Promise<void> {
    for await (const event of subscription) {
      try {
        await this.#notify(event);
      } catch (error) {
        this.#logger.error({ err: String(error), eventType: event.type }, 'could not record a notification');
      }
      this.#handled += 1;
      for (const w of this.#waiters.filter((w) => w.count <= this.#handled)) w.resolve();
      this.#waiters = this.#waiters.filter((w) => w.count > this.#handled);
    }
  }

  async #notify(event: RecordedEvent): Promise<void> {
    if (this.#told.has(event.metadata.eventId)) return;
    const message = messageOf(event);
    if (!message) return;
    const wanted = new Set(channelsOf(this.#options.config, message.user));
    const now = this.#options.now?.() ?? new Date();
    for (const channel of this.#options.channels.filter((c) => wanted.has(c.name))) {
      const deliveries = await channel.deliver(message);
      const records = deliveries.map((d) => {
        const base = {
          user: message.user,
          channel: channel.name,
          target: d.target,
          subject: message.subject,
          source: { eventId: event.metadata.eventId, type: event.type },
          at: now.toISOString(),
        };
        const domainEvent = d.ok ? NotificationSent(base) : NotificationFailed({ ...base, error: d.error });
        return {
          ...domainEvent,
          metadata: {
            eventId: eventIdFor(now, `${event.metadata.eventId}:${channel.name}:${d.target}`),
            occurredAt: now.toISOString(),
            actor: this.#actor,
            host: this.#options.host,
            correlationId: event.metadata.correlationId,
            causationId: event.metadata.eventId,
          },
        };
      });
      await this.#options.store.append(notificationsStream(message.user), records);
      for (const d of deliveries) {
        if (!d.ok)
          this.#logger.info(
            { user: message.user, channel: channel.name, err: d.error },
            'notification not delivered',
          );
      }
    }
    this.#told.add(event.metadata.eventId);
  }
}
