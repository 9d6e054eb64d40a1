import { z } from 'zod';
import { defineEvent } from '../events/defineEvent.ts';
import { UserName } from '../values.ts';

export const userStream = (user: string) => `user-${user}`;

export const UserRegistered = defineEvent({
  type: 'UserRegistered',
  schema: z.strictObject({
    user: UserName,
    uid: z.number().int().nonnegative().nullable(),
    group: z.string().min(1),
  }),
});

/** The user left the lab: their containers are cleaned up and their allocations released. */
export const UserDeparted = defineEvent({
  type: 'UserDeparted',
  schema: z.strictObject({
    user: UserName,
    reason: z.string().min(1),
  }),
});

export const userEvents = [UserRegistered, UserDeparted] as const;
