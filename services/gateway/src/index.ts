export * from './gatewayService.ts';
export { GatewaySockets, type GatewaySocketUser } from './sockets/gatewaySockets.ts';
