import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NotificationsConfig } from '@ds01/config';
import {
  eventCatalog,
  GpuAllocationDenied,
  lifecycleStream,
  notificationsStream,
  RetirementWarned,
} from '@ds01/domain';
import { type NewEvent, type RecordedEvent, SqliteEventStore } from '@ds01/event-store';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTestUser, type TestUser } from '../../../test/support/users.ts';
import { waitUntil } from '../../../test/support/waitUntil.ts';
import { EmailChannel, Notifier, TtyChannel, WebhookChannel } from '../src/index.ts';
import { writeUtmp } from './utmp.ts';

const PTY_RELAY = fileURLToPath(new URL('./ptyRelay.py', import.meta.url));
const ID = 'e'.repeat(64);

const recorded = (e: { type: string; data: unknown }): NewEvent => ({
  ...e,
  metadata: {
    eventId: randomUUID(),
    occurredAt: new Date().toISOString(),
    actor: { kind: 'service', name: 'lifecycle' },
    host: 'gpu01',
    correlationId: randomUUID(),
    causationId: null,
  },
});

/**
 * The notifier against real parts: a pseudo-terminal owned by ds01t-alice listed in a utmp file that
 * `who` reads, a local SMTP server (smtp-server) and a local webhook (node:http), all on port 0.
 */
describe('notifier: terminals, e-mail and webhook', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ds01-notifier-'));
  const utmp = join(dir, 'utmp');
  let alice: TestUser;
  let pty: ChildProcess;
  let ptyPath = '';
  let ptyOutput = '';
  let smtp: SMTPServer;
  let smtpPort = 0;
  const mails: { to: string[]; body: string }[] = [];
  let webhook: Server;
  const posts: unknown[] = [];
  let store: SqliteEventStore;

  beforeAll(async () => {
    alice = await ensureTestUser('alice');
    pty = spawn('python3', [PTY_RELAY, alice.name], { stdio: ['ignore', 'pipe', 'inherit'] });
    pty.stdout!.on('data', (chunk: Buffer) => {
      ptyOutput += chunk.toString();
    });
    await waitUntil(() => ptyOutput.includes('\n'), 'the pty');
    ptyPath = ptyOutput.split('\n')[0]!.trim();
    ptyOutput = '';
    writeUtmp(utmp, [{ user: alice.name, device: ptyPath, pid: pty.pid! }]);

    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onRcptTo(address, _session, callback) {
        if (address.address.startsWith('refused@')) callback(new Error('550 no such mailbox'));
        else callback();
      },
      onData(stream, session, callback) {
        let body = '';
        stream.on('data', (c: Buffer) => {
          body += c.toString();
        });
        stream.on('end', () => {
          mails.push({ to: session.envelope.rcptTo.map((r) => r.address), body });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    smtpPort = (smtp.server.address() as AddressInfo).port;

    webhook = createServer((request, response) => {
      let body = '';
      request.on('data', (c: Buffer) => {
        body += c.toString();
      });
      request.on('end', () => {
        posts.push(JSON.parse(body));
        response.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
    store = new SqliteEventStore({ path: join(dir, 'events.db'), codec: eventCatalog, pollIntervalMs: 20 });
  });

  afterAll(async () => {
    pty?.kill('SIGKILL');
    await new Promise<void>((resolve) => smtp?.close(() => resolve()));
    await new Promise((resolve) => webhook?.close(resolve));
    await store?.close();
  });

  function notifier(users: Record<string, unknown>) {
    const config = NotificationsConfig.parse({
      channels: ['tty'],
      smtp: { host: '127.0.0.1', port: smtpPort, from: 'ds01@lab.example' },
      email_domain: 'lab.example',
      webhook: { url: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hook`, format: 'slack' },
      users,
      timeout_s: 5,
    });
    const email = new EmailChannel(config);
    return new Notifier({
      store,
      config,
      channels: [new TtyChannel({ utmp, timeoutMs: 5000 }), email, new WebhookChannel(config)],
      host: 'gpu01',
    });
  }

  const notifications = async (user: string) => {
    const events: RecordedEvent[] = [];
    for await (const e of store.readStream(notificationsStream(user))) events.push(e);
    return events;
  };

  const warning = (user: string) =>
    RetirementWarned({
      retirementId: 'r1',
      containerId: ID,
      user,
      containerName: 'train',
      reason: 'idle',
      at: new Date(Date.now() + 15 * 60_000).toISOString(),
      leadMinutes: [15],
      minutesLeft: 15,
      detail: 'idle since 09:00',
    });

  it("a retirement warning reaches the owner's terminal, mailbox and the webhook; each delivery recorded", async () => {
    await store.append(lifecycleStream(ID), [recorded(warning(alice.name))]);
    const n = notifier({ [alice.name]: { channels: ['tty', 'email', 'webhook'] } });
    await n.start();
    await n.handled(1);
    await n.stop();

    await waitUntil(
      () => ptyOutput.includes('will be stopped for idleness in 15 min'),
      'the message on the terminal',
    );
    expect(ptyOutput).toContain('touch /workspace/.keep-alive');
    expect(mails).toHaveLength(1);
    expect(mails[0]!.to).toEqual([`${alice.name}@lab.example`]);
    expect(mails[0]!.body).toContain('Subject: DS01: container train will be stopped for idleness in 15 min');
    expect(posts).toEqual([{ text: expect.stringContaining(`(for ${alice.name})`) }]);
    const told = await notifications(alice.name);
    expect(
      told.map((e) => [
        e.type,
        (e.data as { channel: string; target: string }).channel,
        (e.data as { target: string }).target,
      ]),
    ).toEqual([
      ['NotificationSent', 'tty', ptyPath],
      ['NotificationSent', 'email', `${alice.name}@lab.example`],
      ['NotificationSent', 'webhook', `127.0.0.1:${(webhook.address() as AddressInfo).port}`],
    ]);
  });

  it('restarted, it does not tell again what it told', async () => {
    const n = notifier({ [alice.name]: { channels: ['tty', 'email', 'webhook'] } });
    await n.start();
    await n.handled(1);
    await n.stop();
    expect(mails).toHaveLength(1);
    expect(await notifications(alice.name)).toHaveLength(3);
  });

  it('what cannot be delivered is recorded with why: not logged in, a mailbox the server refuses', async () => {
    await store.append('gpu-pool-gpu01', [
      recorded(
        GpuAllocationDenied({
          requestId: 'q1',
          user: 'ds01t-nobody-here',
          containerId: null,
          request: { count: 2, profile: null },
          reason: { code: 'over_quota', held: 1, requested: 2, limit: 2 },
          message: 'you hold 1 of your 2 GPU-equivalents',
          at: new Date().toISOString(),
        }),
      ),
    ]);
    const n = notifier({ 'ds01t-nobody-here': { channels: ['tty', 'email'], email: 'refused@lab.example' } });
    await n.start();
    await n.handled(2);
    await n.stop();
    const failed = await notifications('ds01t-nobody-here');
    expect(failed.map((e) => [e.type, (e.data as { channel: string }).channel])).toEqual([
      ['NotificationFailed', 'tty'],
      ['NotificationFailed', 'email'],
    ]);
    expect((failed[0]!.data as { error: string }).error).toMatch(/no account|not logged in/);
    expect((failed[1]!.data as { error: string }).error).toContain('550');
  });
});
