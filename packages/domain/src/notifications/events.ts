import { z } from 'zod';
import { defineEvent } from '../events/defineEvent.ts';
import { Instant, UserName } from '../values.ts';

/** Stream of the notifications sent to one user: `notifications-<user>`. */
export const notificationsStream = (user: string) => `notifications-${user}`;

export const NotificationChannelSchema = z.enum(['tty', 'email', 'webhook']);

const Delivery = {
  user: UserName,
  channel: NotificationChannelSchema,
  /** Where it went: `/dev/pts/3`, an address, the webhook's host. */
  target: z.string().min(1),
  subject: z.string().min(1),
  /** The event the notification is about (RetirementWarned, GpuAllocationDenied ...). */
  source: z.strictObject({ eventId: z.string().min(1), type: z.string().min(1) }),
  at: Instant,
};

/** A user was told something, on one channel and target. */
export const NotificationSent = defineEvent({
  type: 'NotificationSent',
  schema: z.strictObject(Delivery),
});

/** Telling a user failed on one channel (no session, refused by the SMTP server, `mesg n` ...). */
export const NotificationFailed = defineEvent({
  type: 'NotificationFailed',
  schema: z.strictObject({ ...Delivery, error: z.string().min(1) }),
});

export const notificationEvents = [NotificationSent, NotificationFailed] as const;
