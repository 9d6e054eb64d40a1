import { PassThrough } from 'node:stream';
import { expect, it } from 'vitest';
import { type HealthSample, startHealthLog } from '../src/healthLog.ts';
import { createLogger } from '../src/logger.ts';

it('logs memory, open descriptors and event-loop lag at debug level until stopped', async () => {
  const sink = new PassThrough();
  const lines: (HealthSample & { msg: string; level: string })[] = [];
  sink.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
  });
  const stop = startHealthLog(createLogger('debug', sink), 20);
  const deadline = Date.now() + 10_000;
  while (lines.length < 2) {
    if (Date.now() > deadline) throw new Error('waited 10 s for two "ds01d health" lines');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  stop();
  const seen = lines.length;
  await new Promise((resolve) => setTimeout(resolve, 60));
  expect(lines.length).toBe(seen);
  const [line] = lines;
  expect(line).toMatchObject({ msg: 'ds01d health', level: 'debug' });
  expect(line!.rssBytes).toBeGreaterThan(0);
  expect(line!.openFds).toBeGreaterThan(2);
  expect(line!.eventLoopLagMs.max).toBeGreaterThanOrEqual(line!.eventLoopLagMs.p50);
});

it('says nothing at info level', async () => {
  let text = '';
  const sink = new PassThrough();
  sink.on('data', (chunk: Buffer) => {
    text += chunk;
  });
  const stop = startHealthLog(createLogger('info', sink), 5);
  await new Promise((resolve) => setTimeout(resolve, 50));
  stop();
  expect(text).toBe('');
});
