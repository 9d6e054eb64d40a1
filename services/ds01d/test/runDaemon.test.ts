import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { loadDs01Config } from '@ds01/config';
import type { Service } from '@ds01/service';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runDaemon } from '../src/daemon.ts';
import { createLogger } from '../src/logger.ts';

let dataDir: string;
let logText: string;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'ds01d-run-'));
  logText = '';
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

function logger() {
  const sink = new PassThrough();
  sink.on('data', (chunk) => {
    logText += chunk;
  });
  return createLogger('info', sink);
}

function config() {
  return loadDs01Config({ dataDir, env: {}, checkoutRoot: dataDir, configDir: join(dataDir, 'config') });
}

/** A service that records its start and stop in `journal`. */
function recording(name: string, journal: string[], options: { failStart?: boolean } = {}): Service {
  return {
    name,
    async start(context) {
      if (options.failStart) throw new Error(`${name} cannot start`);
      journal.push(
        `start ${name} (head ${await context.store.headPosition()}, ${context.paths.dataDir === dataDir})`,
      );
      context.logger.info('hello');
      return {
        async stop() {
          journal.push(`stop ${name}`);
        },
      };
    },
  };
}

describe('runDaemon', () => {
  it('starts services in order with their context, and stops them in reverse when aborted', async () => {
    const journal: string[] = [];
    const stop = new AbortController();
    const running = runDaemon({
      config: config(),
      logger: logger(),
      services: [recording('first', journal), recording('second', journal)],
      signal: stop.signal,
    });
    await waitUntil(() => logText.includes('ds01d ready'));
    stop.abort('test');
    await running;
    expect(journal).toEqual([
      'start first (head 0, true)',
      'start second (head 0, true)',
      'stop second',
      'stop first',
    ]);
    const lines = logText
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toContainEqual(expect.objectContaining({ service: 'first', msg: 'hello' }));
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: 'ds01d ready', services: ['first', 'second'] }),
    );
  });

  it('undoes what started when a service fails to start, and releases the lock', async () => {
    const journal: string[] = [];
    const attempt = runDaemon({
      config: config(),
      logger: logger(),
      services: [recording('first', journal), recording('broken', journal, { failStart: true })],
      signal: new AbortController().signal,
    });
    await expect(attempt).rejects.toThrow('broken cannot start');
    expect(journal).toEqual(['start first (head 0, true)', 'stop first']);
    // The lock is free again: a second run starts.
    const stop = new AbortController();
    stop.abort('at once');
    await runDaemon({ config: config(), logger: logger(), services: [], signal: stop.signal });
  });

  it('gives up on a service that does not stop in time, logs it, and still stops the rest', async () => {
    const journal: string[] = [];
    const hanging: Service = {
      name: 'hanging',
      async start() {
        return { stop: () => new Promise<void>(() => {}) };
      },
    };
    const stop = new AbortController();
    const running = runDaemon({
      config: config(),
      logger: logger(),
      services: [recording('first', journal), hanging],
      signal: stop.signal,
      stopTimeoutMs: 100,
    });
    await waitUntil(() => logText.includes('ds01d ready'));
    stop.abort('test');
    await running;
    expect(journal).toContain('stop first');
    expect(logText).toMatch(
      /"part":"hanging".*did not stop within 100 ms.*"msg":"could not stop hanging cleanly"/,
    );
  });
});

describe('logger', () => {
  it('writes readable single lines on a terminal', () => {
    const sink = Object.assign(new PassThrough(), { isTTY: true });
    let text = '';
    sink.on('data', (chunk) => {
      text += chunk;
    });
    createLogger('info', sink).info(
      { dataDir: '/var/lib/ds01', services: 2, note: 'two words' },
      'ds01d ready',
    );
    expect(text).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}ds01d ready dataDir=\/var\/lib\/ds01 services=2 note="two words"\n$/,
    );
  });
});

async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 25));
  if (!condition()) throw new Error('condition not met in time');
}
