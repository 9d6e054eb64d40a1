import pg from 'pg';
import { AppendWakeups } from '../subscription/appendWakeups.ts';

/** Longest pause between two attempts to listen again while the server is away. */
const MAX_BACKOFF_MS = 2_000;

/**
 * One LISTEN connection per store: every append to the log (from any host) sends a NOTIFY at its commit,
 * and this turns them into 'append' events for the store's subscriptions. The connection is remade after
 * the server restarts or the network breaks, and an 'append' is emitted then too: notifications sent while
 * nobody listened are lost, so subscriptions read again rather than wait. Notifications only wake readers;
 * what they read is always "everything after my position", so a lost or extra one changes nothing.
 */
export class AppendListener {
  readonly #config: pg.ClientConfig;
  readonly #channel: string;
  readonly #wakeups = new AppendWakeups();
  #client: pg.Client | undefined;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;
  #backoffMs = 100;

  constructor(config: pg.ClientConfig, channel: string) {
    this.#config = config;
    this.#channel = channel;
    void this.#listen();
  }

  /** How many wake-ups so far: notifications, own appends, reconnections. */
  get count(): number {
    return this.#wakeups.count;
  }

  /** Wakes the subscriptions (the store's own appends call this, before any notification arrives). */
  wake(): void {
    this.#wakeups.wake();
  }

  /** Resolves at the next wake-up, or after `ms`. */
  wait(ms: number): { promise: Promise<void>; cancel(): void } {
    return this.#wakeups.wait(ms);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
    this.wake();
  }

  async #listen(): Promise<void> {
    if (this.#closed) return;
    const client = new pg.Client(this.#config);
    let lost = false;
    const reconnect = () => {
      if (lost) return;
      lost = true;
      if (this.#client === client) this.#client = undefined;
      client.end().catch(() => {});
      if (this.#closed) return;
      this.#retry = setTimeout(() => void this.#listen(), this.#backoffMs);
      this.#backoffMs = Math.min(this.#backoffMs * 2, MAX_BACKOFF_MS);
    };
    client.on('error', reconnect);
    client.on('end', reconnect);
    client.on('notification', () => this.wake());
    try {
      await client.connect();
      await client.query(`LISTEN "${this.#channel}"`);
    } catch {
      reconnect();
      return;
    }
    if (this.#closed || lost) {
      await client.end().catch(() => {});
      return;
    }
    this.#client = client;
    this.#backoffMs = 100;
    // Appends may have committed while nobody listened.
    this.wake();
  }
}
