import { effectiveLimits } from '@ds01/config';
import { CONTAINER_ROW_COLUMNS, ContainerRow, slotStatus, userHoldings } from '@ds01/projections';
import type { Caller } from '../access/caller.ts';
import type { IncomingCall } from '../decideRequest.ts';
import { type Decision, refuse } from '../decision.ts';
import type { GatewayContext } from '../gatewayContext.ts';
import { firstValue, parseRequestTarget } from '../request/requestTarget.ts';
import { retireContainer } from './retire.ts';
import { answerUsage } from './usage.ts';

/** `containers/<name>/retire`: the one write of the API (the name is resolved by dockerd). */
const RETIRE = /^containers\/([^/]+)\/retire$/;

/**
 * DS01's own API, on the same socket as Docker's: `/ds01/v1/...`, JSON. The caller is the socket's
 * user, so every answer is about them — there is no parameter naming a user, and so no way to ask
 * for another's. The admin socket answers for everyone.
 *
 *   GET /ds01/v1/whoami       who the socket says you are
 *   GET /ds01/v1/containers   your containers (?all=1: removed ones too), as `ds01 containers` shows them
 *   GET /ds01/v1/gpus         the pool: your slots, how many are free, what you hold of your quota
 *   GET /ds01/v1/limits       your resource limits, resolved as ds01-infra resolves them
 *   GET /ds01/v1/usage?period=30d&by=user
 *                             your usage as `ds01 usage --json` prints it (the admin socket: everyone's);
 *                             user= or group= naming another is refused (403)
 *   POST /ds01/v1/containers/{name}/retire?t=S
 *                             stop (S seconds' grace), release its GPUs at once (no hold), remove
 */
export const DS01_API_PREFIX = '/ds01/v1/';

export function isDs01ApiPath(path: string): boolean {
  return path.startsWith('/ds01/');
}

export async function answerDs01Api(
  context: GatewayContext,
  caller: Caller,
  call: IncomingCall,
): Promise<Decision> {
  const target = parseRequestTarget(call.url);
  if (!target.path.startsWith(DS01_API_PREFIX)) {
    return refuse(404, 'ds01-api', `no DS01 API at ${target.path}: the API is under ${DS01_API_PREFIX}`);
  }
  const retire = RETIRE.exec(target.path.slice(DS01_API_PREFIX.length));
  if (retire) {
    if (call.method !== 'POST')
      return refuse(405, 'ds01-api', `${call.method} ${target.path}: retiring a container is a POST`);
    return retireContainer(context, caller, retire[1]!, target);
  }
  if (call.method !== 'GET')
    return refuse(
      405,
      'ds01-api',
      `${call.method} ${target.path}: this endpoint of the DS01 API is read-only`,
    );
  const user = caller.kind === 'user' ? caller.user : null;
  const answer = (json: unknown): Decision => ({ kind: 'answer', status: 200, json });
  switch (target.path.slice(DS01_API_PREFIX.length)) {
    case 'whoami':
      return answer(
        caller.kind === 'user'
          ? {
              user: caller.user,
              uid: caller.uid,
              gid: caller.gid,
              group: caller.group,
              host: context.host,
              socket: caller.socketPath,
            }
          : { user: null, admin: true, uid: caller.uid, host: context.host, socket: caller.socketPath },
      );
    case 'containers': {
      const all = ['1', 'true'].includes(firstValue(target.query, 'all') ?? '');
      // A user sees what is theirs on something they could not write: the verified owner (created
      // through their socket: the read model folds the gateway's ContainerCreateAuthorized) or, for
      // containers the gateway did not create (ds01-infra's, an admin's), a ds01.user label, which
      // only the gateway and root can set. Never a path, mount or name claim.
      const mine = "owner = ? AND (owner_verified = 1 OR owner_rule = 'ds01_label')";
      const where = [...(all ? [] : ["status <> 'removed'"]), ...(user === null ? [] : [mine])];
      return answer(
        context
          .readModel()
          .query(
            ContainerRow,
            `SELECT ${CONTAINER_ROW_COLUMNS} FROM containers${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, name`,
            ...(user === null ? [] : [user]),
          ),
      );
    }
    case 'gpus': {
      const readModel = context.readModel();
      const slots = slotStatus(readModel, context.host);
      const mine = user === null ? slots : slots.filter((s) => s.user === user);
      const holdings = userHoldings(readModel, context.host).filter((h) => user === null || h.user === user);
      let quota: number | null | undefined;
      if (user !== null) {
        try {
          quota = effectiveLimits(context.resourceLimits(), user).max_gpu_equivalents;
        } catch {
          quota = undefined; // limits that do not load: the quota is unknown, the rest still answers
        }
      }
      return answer({
        host: context.host,
        user,
        slots: mine,
        free: slots.filter((s) => s.since === null && s.in_inventory === 1).length,
        held: holdings,
        ...(quota === undefined ? {} : { quotaGpuEquivalents: quota }),
      });
    }
    case 'usage':
      return answerUsage(context, caller, target);
    case 'limits':
      if (user === null)
        return refuse(400, 'ds01-api', 'the admin socket has no limits of its own: ask a user socket');
      return answer(effectiveLimits(context.resourceLimits(), user));
    default:
      return refuse(
        404,
        'ds01-api',
        `no DS01 API endpoint ${target.path} (there are: whoami, containers, gpus, limits, usage)`,
      );
  }
}
