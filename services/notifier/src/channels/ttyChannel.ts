import { lookupAccount, terminalsOf, writeToTerminal } from '@ds01/host';
import type { Message } from '../messages.ts';
import { type Channel, type Delivery, errorText } from './channel.ts';

/**
 * The user's terminals, like `write(1)`: every session `who` lists for them, each written only when
 * they own it and accept messages. No session is one failed delivery (said so), not an error.
 */
export class TtyChannel implements Channel {
  readonly name = 'tty' as const;
  readonly #utmp: string | undefined;
  readonly #timeoutMs: number;

  constructor(options: { utmp?: string; timeoutMs: number }) {
    this.#utmp = options.utmp;
    this.#timeoutMs = options.timeoutMs;
  }

  async deliver(message: Message): Promise<Delivery[]> {
    const target = `terminals of ${message.user}`;
    try {
      const account = await lookupAccount(message.user, { timeoutMs: this.#timeoutMs });
      if (!account) return [{ target, ok: false, error: `no account ${message.user} on this host` }];
      const sessions = await terminalsOf(message.user, { utmp: this.#utmp, timeoutMs: this.#timeoutMs });
      if (sessions.length === 0) return [{ target, ok: false, error: `${message.user} is not logged in` }];
      const text = `\n\x07Message from DS01: ${message.subject}\n${message.text}\n`;
      return await Promise.all(
        sessions.map(async ({ device }): Promise<Delivery> => {
          try {
            await writeToTerminal(device, account.uid, text, this.#timeoutMs);
            return { target: device, ok: true };
          } catch (error) {
            return { target: device, ok: false, error: errorText(error) };
          }
        }),
      );
    } catch (error) {
      return [{ target, ok: false, error: errorText(error) }];
    }
  }
}
