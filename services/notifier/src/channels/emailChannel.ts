import { readFileSync } from 'node:fs';
import { emailOf, type NotificationsConfig } from '@ds01/config';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Message } from '../messages.ts';
import { type Channel, type Delivery, errorText } from './channel.ts';

type Smtp = NonNullable<NotificationsConfig['smtp']>;

/** E-mail over SMTP (nodemailer), every stage of the conversation with a deadline. */
export class EmailChannel implements Channel {
  readonly name = 'email' as const;
  readonly #config: NotificationsConfig;
  readonly #transport: Transporter | null;
  readonly #smtp: Smtp | undefined;

  constructor(config: NotificationsConfig) {
    this.#config = config;
    this.#smtp = config.smtp;
    const timeoutMs = config.timeout_s * 1000;
    this.#transport = config.smtp
      ? nodemailer.createTransport({
          host: config.smtp.host,
          port: config.smtp.port,
          secure: config.smtp.secure,
          connectionTimeout: timeoutMs,
          greetingTimeout: timeoutMs,
          socketTimeout: timeoutMs,
          ...(config.smtp.user
            ? {
                auth: {
                  user: config.smtp.user,
                  pass: config.smtp.password_file
                    ? readFileSync(config.smtp.password_file, 'utf8').trim()
                    : '',
                },
              }
            : {}),
        })
      : null;
  }

  async deliver(message: Message): Promise<Delivery[]> {
    const to = emailOf(this.#config, message.user);
    if (!this.#transport || !this.#smtp) {
      return [
        {
          target: to ?? message.user,
          ok: false,
          error: 'no SMTP server configured (ds01.yaml notifications.smtp)',
        },
      ];
    }
    if (!to) {
      return [
        {
          target: message.user,
          ok: false,
          error: 'no address: set notifications.email_domain or users.<name>.email',
        },
      ];
    }
    try {
      await this.#transport.sendMail({
        from: this.#smtp.from,
        to,
        subject: message.subject,
        text: `${message.text}\n`,
      });
      return [{ target: to, ok: true }];
    } catch (error) {
      return [{ target: to, ok: false, error: errorText(error) }];
    }
  }

  close(): void {
    this.#transport?.close();
  }
}
