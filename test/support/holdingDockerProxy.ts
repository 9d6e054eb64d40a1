import { rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';

/** A container create whose answer the proxy keeps back: dockerd has answered, the caller not yet heard. */
export interface HeldCreate {
  /** Resolves once dockerd answered the create (the container exists) and the answer is held. */
  answered: Promise<void>;
  /** Passes the held answer on (and every create's after it). */
  release(): void;
}

/**
 * A unix socket in front of a real dockerd that passes every byte through both ways, except that
 * while a hold is on, the answer to a container create is kept back until the test releases it: a
 * dockerd slow to answer a create (a loaded host), on demand, with the container really created.
 * Point ds01d's DOCKER_HOST at `host`.
 */
export class HoldingDockerProxy {
  readonly #server: Server;
  #hold: { seen: () => void; released: boolean; waiting: Array<() => void> } | null = null;

  readonly socketPath: string;

  private constructor(socketPath: string, upstreamPath: string) {
    this.socketPath = socketPath;
    this.#server = createServer((client) => {
      const upstream = connect(upstreamPath);
      let held: Buffer[] | null = null;
      client.on('data', (chunk) => {
        const hold = this.#hold;
        if (hold && !hold.released && /^POST \S*\/containers\/create[? ]/m.test(chunk.toString('latin1'))) {
          held = [];
          hold.waiting.push(() => {
            for (const part of held ?? []) client.write(part);
            held = null;
          });
        }
        upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => {
        if (!held) {
          client.write(chunk);
          return;
        }
        held.push(chunk);
        this.#hold?.seen();
      });
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => {
        if (!held) client.end();
      });
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
  }

  get host(): string {
    return `unix://${this.socketPath}`;
  }

  static async start(upstreamPath: string, socketPath: string): Promise<HoldingDockerProxy> {
    rmSync(socketPath, { force: true });
    const proxy = new HoldingDockerProxy(socketPath, upstreamPath);
    await new Promise<void>((resolve, reject) => {
      proxy.#server.once('error', reject);
      proxy.#server.listen(socketPath, resolve);
    });
    return proxy;
  }

  /** Holds back the answer of the next container creates until release(). */
  holdCreates(): HeldCreate {
    let seen!: () => void;
    const answered = new Promise<void>((resolve) => {
      seen = resolve;
    });
    const hold = { seen, released: false, waiting: [] as Array<() => void> };
    this.#hold = hold;
    return {
      answered,
      release: () => {
        hold.released = true;
        this.#hold = null;
        for (const flush of hold.waiting) flush();
      },
    };
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
