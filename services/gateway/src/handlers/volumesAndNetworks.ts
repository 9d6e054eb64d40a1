import { Label } from '@ds01/domain';
import { ownsLabelled, resolveOwnContainer } from '../access/containerAccess.ts';
import { jsonBody, ownerFiltered, type RouteCall, readJsonBody, segments } from '../decideRequest.ts';
import { type Decision, pipe, refuse } from '../decision.ts';
import { networkConnectShape, networkCreateShape, volumeCreateShape } from '../request/goJson.ts';
import { encodeTarget } from '../request/requestTarget.ts';
import { dockerMessage } from '../upstream/dockerUpstream.ts';

/**
 * Volumes and networks are scoped like containers: the gateway labels them `ds01.user=<caller>` at
 * create, lists only the caller's (dockerd filters by the label), and refuses to inspect, remove or
 * connect to one that is not theirs.
 */

export async function decideVolume(routeCall: RouteCall): Promise<Decision> {
  const { context, caller, call, target, match } = routeCall;
  const kind = match.route.kind;
  if (kind === 'volumeList') return listed(routeCall);
  if (kind === 'volumeCreate') {
    const body = await readJsonBody(routeCall, volumeCreateShape);
    if (caller.kind === 'user') {
      const refusal = checkNewResource(body, 'volume');
      if (refusal) return refusal;
      const driver = body['Driver'];
      if (driver && driver !== 'local') {
        return refuse(
          403,
          'volume-driver',
          `volume driver ${JSON.stringify(driver)} is not allowed: use the local driver`,
        );
      }
      if (body['DriverOpts'] && Object.keys(body['DriverOpts'] as object).length > 0) {
        return refuse(
          403,
          'volume-driver-options',
          'volume driver options are not allowed (they can bind host paths into a volume): create a plain volume',
        );
      }
      if (typeof body['Name'] === 'string' && body['Name']) {
        // dockerd answers an existing name with that volume: another user's must not come back as "created".
        const existing = await context.upstream.json(
          'GET',
          encodeTarget(null, ['volumes', body['Name']], []),
        );
        const labels = (existing.body as { Labels?: Record<string, string> | null } | null)?.Labels;
        if (existing.status === 200 && !ownsLabelled(caller, labels)) {
          return refuse(
            403,
            'not-owner',
            `volume ${JSON.stringify(body['Name'])} exists and is not yours`,
            body['Name'],
          );
        }
      }
      body['Labels'] = { ...((body['Labels'] ?? {}) as object), [Label.user]: caller.user };
    }
    return pipe(
      call.method,
      encodeTarget(target.version, ['volumes', 'create'], target.query),
      jsonBody(body),
    );
  }
  const name = match.param ?? '';
  const answer = await context.upstream.json('GET', encodeTarget(null, ['volumes', name], []));
  if (answer.status !== 200)
    return { ...refuse(answer.status, 'not-found', dockerMessage(answer.body), name), record: false };
  if (!ownsLabelled(caller, (answer.body as { Labels?: Record<string, string> | null }).Labels)) {
    return refuse(403, 'not-owner', `volume ${JSON.stringify(name)} is not yours`, name);
  }
  return pipe(call.method, encodeTarget(target.version, segments(match, name), target.query));
}

export async function decideNetwork(routeCall: RouteCall): Promise<Decision> {
  const { context, caller, call, target, match, endpoint } = routeCall;
  const kind = match.route.kind;
  if (kind === 'networkList') return listed(routeCall);
  if (kind === 'networkCreate') {
    const body = await readJsonBody(routeCall, networkCreateShape);
    if (caller.kind === 'user') {
      const refusal = checkNewResource(body, 'network');
      if (refusal) return refusal;
      const driver = body['Driver'];
      if (driver && driver !== 'bridge') {
        return refuse(
          403,
          'network-driver',
          `network driver ${JSON.stringify(driver)} is not allowed: use bridge`,
        );
      }
      if (body['ConfigFrom'] || body['ConfigOnly'] || body['Ingress']) {
        return refuse(403, 'network-options', 'config-only, config-from and ingress networks are for admins');
      }
      body['Labels'] = { ...((body['Labels'] ?? {}) as object), [Label.user]: caller.user };
    }
    return pipe(
      call.method,
      encodeTarget(target.version, ['networks', 'create'], target.query),
      jsonBody(body),
    );
  }
  const ref = match.param ?? '';
  const answer = await context.upstream.json('GET', encodeTarget(null, ['networks', ref], []));
  if (answer.status !== 200)
    return { ...refuse(answer.status, 'not-found', dockerMessage(answer.body), ref), record: false };
  const network = answer.body as { Id: string; Labels?: Record<string, string> | null };
  if (!ownsLabelled(caller, network.Labels)) {
    return refuse(403, 'not-owner', `network ${JSON.stringify(ref)} is not yours`, ref);
  }
  const forwarded = encodeTarget(target.version, segments(match, network.Id), target.query);
  if (kind === 'network') return pipe(call.method, forwarded);
  const body = await readJsonBody(routeCall, networkConnectShape);
  const container = await resolveOwnContainer(context, caller, String(body['Container'] ?? ''), endpoint);
  if ('kind' in container) return container;
  return pipe(call.method, forwarded, jsonBody({ ...body, Container: container.id }));
}

function listed(routeCall: RouteCall): Decision {
  const { caller, call, target, match } = routeCall;
  if (caller.kind === 'admin')
    return pipe(call.method, encodeTarget(target.version, segments(match, null), target.query));
  const query = ownerFiltered(target.query, caller.user);
  if (typeof query === 'string') return refuse(400, 'bad-request', query);
  return pipe(call.method, encodeTarget(target.version, segments(match, null), query));
}

function checkNewResource(body: Record<string, unknown>, what: string): Decision | null {
  const forged = Object.keys((body['Labels'] ?? {}) as object).find((key) => key.startsWith('ds01.'));
  if (forged) {
    return refuse(
      403,
      'ds01-label',
      `label ${forged} is DS01's to set: remove it (DS01 labels your ${what}s itself)`,
    );
  }
  return null;
}
