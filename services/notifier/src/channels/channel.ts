import type { Message } from '../messages.ts';

/** One delivery to one target: sent, or failed with why. */
export type Delivery = { target: string; ok: true } | { target: string; ok: false; error: string };

/** A way to tell a user: terminals, e-mail, webhook. Never throws: failures are deliveries too. */
export interface Channel {
  readonly name: 'tty' | 'email' | 'webhook';
  deliver(message: Message): Promise<Delivery[]>;
}

export const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));
