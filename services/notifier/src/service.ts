import { notificationsConfigOf } from '@ds01/config';
import type { RunningService, Service, ServiceContext } from '@ds01/service';
import { EmailChannel } from './channels/emailChannel.ts';
import { TtyChannel } from './channels/ttyChannel.ts';
import { WebhookChannel } from './channels/webhookChannel.ts';
import { Notifier } from './notifier.ts';

/** The notifier in ds01d: terminals, e-mail and webhook as ds01.yaml's `notifications` says. */
export const notifierService: Service = {
  name: 'notifier',
  async start(context: ServiceContext): Promise<RunningService> {
    const config = notificationsConfigOf(context.config.yaml);
    const email = new EmailChannel(config);
    const notifier = new Notifier({
      store: context.store,
      config,
      channels: [new TtyChannel({ timeoutMs: config.timeout_s * 1000 }), email, new WebhookChannel(config)],
      host: context.config.host,
      logger: context.logger,
    });
    await notifier.start();
    context.logger.info({ channels: config.channels }, 'notifier started');
    return {
      async stop() {
        await notifier.stop();
        email.close();
      },
    };
  },
};
