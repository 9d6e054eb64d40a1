export * from './channels/channel.ts';
export * from './channels/emailChannel.ts';
export * from './channels/ttyChannel.ts';
export * from './channels/webhookChannel.ts';
export * from './messages.ts';
export * from './notifier.ts';
export * from './service.ts';
