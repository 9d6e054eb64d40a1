import { hostAllocator, inventoryFrom, storedInventory } from '@ds01/allocation';
import {
  analyticsConfigOf,
  gatewayConfigOf,
  imagesConfigOf,
  intensityRanges,
  loadResourceLimits,
  maxImageBytes,
  type ResourceLimits,
} from '@ds01/config';
import { ReadModel } from '@ds01/projections';
import type { RunningService, Service, ServiceContext } from '@ds01/service';
import { ContainerOwners, ExecContainers } from './access/ownership.ts';
import type { DaemonInfo, GatewayContext } from './gatewayContext.ts';
import { createGatewayServer } from './gatewayServer.ts';
import { encodeTarget } from './request/requestTarget.ts';
import { GatewaySockets } from './sockets/gatewaySockets.ts';
import { DockerUpstream } from './upstream/dockerUpstream.ts';
import { gatewayUsers, RegisteredUsers } from './users/gatewayUsers.ts';

export interface GatewayServiceOptions {
  /** The time decisions are taken at (tests give their own). */
  clock?: () => Date;
}

/** Events that change who gets a socket. */
const USER_EVENTS = ['UserRegistered', 'UserDeparted', 'PolicyChanged'];

/**
 * The gateway in ds01d: a socket per user and the admin socket (ds01.yaml `gateway:`), forwarding
 * to the real daemon after deciding each request for the socket's user. Sockets follow the users:
 * UserRegistered opens one, UserDeparted closes it, a members file edit (PolicyChanged) does either.
 */
export function createGatewayService(options: GatewayServiceOptions = {}): Service {
  return {
    name: 'gateway',
    async start(service: ServiceContext): Promise<RunningService> {
      const { store, config, paths, logger } = service;
      const settings = gatewayConfigOf(config.yaml);
      if (!settings.enabled) {
        logger.info('gateway disabled in ds01.yaml (gateway.enabled: false)');
        return { stop: async () => {} };
      }
      const upstream = new DockerUpstream(settings.dockerSocket);
      const owners = new ContainerOwners();
      await owners.load(store);
      const readModel = new ReadModel(paths.projectionsDb);
      let limits: ResourceLimits | null = null;
      const loadLimits = (): ResourceLimits => {
        limits = loadResourceLimits(paths.configDir);
        return limits;
      };
      try {
        loadLimits();
      } catch (error) {
        logger.warn(
          { err: error },
          'gateway: resource limits do not load: creates are refused until they do',
        );
      }
      const inventory = inventoryFrom(
        async () => (await storedInventory(store, config.host))?.inventory ?? null,
        "the gpu-sampler's recorded inventory",
      );
      const context: GatewayContext = {
        upstream,
        store,
        host: config.host,
        logger,
        owners,
        execs: new ExecContainers(),
        allocator: hostAllocator({ store, config, inventory }),
        resourceLimits: loadLimits,
        readModel: () => readModel,
        gridIntensity: intensityRanges(analyticsConfigOf(config.yaml)),
        maxBodyBytes: settings.max_body_bytes,
        createRules: {
          bindRoots: settings.bind_roots,
          capabilityAllowlist: settings.capability_allowlist,
          deviceAllowlist: settings.device_allowlist,
        },
        images: { maxSizeBytes: maxImageBytes(imagesConfigOf(config.yaml)) },
        daemonInfo: daemonInfoOnce(upstream),
        clock: options.clock ?? (() => new Date()),
      };
      const sockets = new GatewaySockets({
        usersDir: settings.users_dir,
        adminSocket: settings.admin_socket,
        serverFor: (caller) => createGatewayServer(context, caller),
        logger,
      });
      try {
        await sockets.start();
      } catch (error) {
        // ds01d's other services go on: the log, the watcher and allocation do not need the sockets.
        logger.error(
          { err: error, usersDir: settings.users_dir, adminSocket: settings.admin_socket },
          'gateway: cannot make its socket folders: no user gets a Docker socket. Run ds01d as root, or set ' +
            'gateway.users_dir / admin_socket in ds01.yaml to folders it may own (gateway.enabled: false turns it off)',
        );
        upstream.close();
        readModel.close();
        return { stop: async () => {} };
      }
      const warned = new Set<string>();
      const registered = new RegisteredUsers(readModel);
      const resync = async (): Promise<void> => {
        let current = limits;
        try {
          current = loadLimits();
        } catch {
          // a members file that does not load: the last good one stands
        }
        try {
          await sockets.sync(await gatewayUsers({ registered, limits: current, logger, warned }));
        } catch (error) {
          logger.error({ err: error }, 'gateway: could not bring the sockets up to date with the users');
        }
      };
      await resync();
      const subscription = store.subscribeToAll({
        after: registered.after,
        filter: { eventTypes: USER_EVENTS },
      });
      const following = (async () => {
        for await (const event of subscription) {
          registered.apply(event);
          await resync();
        }
      })().catch((error: unknown) => logger.error({ err: error }, 'gateway: stopped following users'));
      logger.info(
        {
          usersDir: settings.users_dir,
          adminSocket: settings.admin_socket,
          docker: settings.docker_host,
          users: sockets.served().size,
        },
        'gateway started',
      );
      return {
        async stop() {
          await subscription.close();
          await following;
          await sockets.stop();
          upstream.close();
          readModel.close();
        },
      };
    },
  };
}

/** ds01d's gateway (services.ts registers it last: it serves what the others record). */
export const gatewayService = createGatewayService();

/**
 * What the create policy needs of `docker info` — the default runtime (`nvidia` makes
 * NVIDIA_VISIBLE_DEVICES reach GPUs) and the host's CPUs (a CPU limit above them is refused by dockerd) —
 * asked once it is first needed and kept (it changes only with a restart of dockerd). A daemon that
 * does not answer is asked again next time; until then both are unknown (null).
 */
function daemonInfoOnce(upstream: DockerUpstream): () => Promise<DaemonInfo> {
  let known: DaemonInfo | undefined;
  return async () => {
    if (known !== undefined) return known;
    const answer = await upstream.json('GET', encodeTarget(null, ['info'], []));
    if (answer.status !== 200) return { defaultRuntime: null, cpus: null };
    const info = (answer.body ?? {}) as { DefaultRuntime?: unknown; NCPU?: unknown };
    known = {
      defaultRuntime:
        typeof info.DefaultRuntime === 'string' && info.DefaultRuntime !== '' ? info.DefaultRuntime : null,
      cpus: typeof info.NCPU === 'number' && info.NCPU > 0 ? info.NCPU : null,
    };
    return known;
  };
}
