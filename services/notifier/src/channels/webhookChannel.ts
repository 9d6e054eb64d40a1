import type { NotificationsConfig } from '@ds01/config';
import type { Message } from '../messages.ts';
import { type Channel, type Delivery, errorText } from './channel.ts';

/** The JSON a chat webhook takes: Slack's `{text}`, or a Teams MessageCard. */
export function webhookBody(format: 'slack' | 'teams', message: Message): unknown {
  if (format === 'slack') return { text: `*${message.subject}* (for ${message.user})\n${message.text}` };
  return {
    '@type': 'MessageCard',
    '@context': 'https://schema.org/extensions',
    summary: message.subject,
    title: message.subject,
    text: `For **${message.user}**\n\n${message.text.replaceAll('\n', '\n\n')}`,
  };
}

/** A Slack or Teams incoming webhook: one POST with a deadline; anything but 2xx is a failure. */
export class WebhookChannel implements Channel {
  readonly name = 'webhook' as const;
  readonly #config: NotificationsConfig;

  constructor(config: NotificationsConfig) {
    this.#config = config;
  }

  async deliver(message: Message): Promise<Delivery[]> {
    const hook = this.#config.webhook;
    if (!hook)
      return [
        { target: 'webhook', ok: false, error: 'no webhook configured (ds01.yaml notifications.webhook)' },
      ];
    const target = new URL(hook.url).host;
    try {
      const response = await fetch(hook.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(webhookBody(hook.format, message)),
        signal: AbortSignal.timeout(this.#config.timeout_s * 1000),
      });
      await response.body?.cancel();
      if (!response.ok)
        return [
          { target, ok: false, error: `the webhook answered ${response.status} ${response.statusText}` },
        ];
      return [{ target, ok: true }];
    } catch (error) {
      return [{ target, ok: false, error: errorText(error) }];
    }
  }
}
