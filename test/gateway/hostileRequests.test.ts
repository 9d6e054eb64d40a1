import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithDocker } from '../support/docker.ts';
import { type GatewayLab, rawBytes, rawRequest, removeRunResources, startGatewayLab } from './gatewayLab.ts';

/**
 * Requests no docker client sends, written byte for byte on alice's socket. Each is either decided
 * on dockerd's own reading of it or refused (400, 403, 413) before anything reaches dockerd, and the
 * refusal is recorded. One test per class of refusal.
 */
describeWithDocker('the gateway and hostile requests', (td) => {
  let lab: GatewayLab;
  let socket: string;
  const prefix = `ds01t-${td.runId}`;
  const json = { 'content-type': 'application/json' };

  beforeAll(async () => {
    lab = await startGatewayLab(td, ['alice']);
    socket = lab.socketOf(lab.users['alice']!);
  });
  afterAll(async () => {
    await lab?.stop();
    await removeRunResources(td, prefix);
  });

  const message = (body: string) => (JSON.parse(body) as { message: string }).message;

  it.each([
    ['a .. segment', '/containers/../info'],
    ['a percent-encoded .. segment', '/v1.41/containers/%2e%2e/%2e%2e/info'],
    ['an empty segment', '/v1.41//containers/json'],
    ['a broken escape', '/containers/%zz/json'],
    ['a semicolon in the query', '/containers/json?all=1;filters=x'],
    ['an API version older than 1.24', '/v1.23/containers/json'],
  ])('%s: 400 before dockerd sees it', async (_what, path) => {
    const answer = await rawRequest(socket, 'GET', path);
    expect(answer.status).toBe(400);
    expect(message(answer.body)).not.toBe('');
  });

  it('an endpoint not on the allowlist: 403 naming it', async () => {
    const answer = await rawRequest(socket, 'POST', '/v1.41/containers/prune');
    expect(answer.status).toBe(403);
    expect(message(answer.body)).toBe('not allowed through the DS01 gateway: POST /containers/prune');
    expect((await rawRequest(socket, 'GET', '/swarm')).status).toBe(403);
  });

  it('malformed JSON, the wrong Content-Type, a value of the wrong type: 400', async () => {
    const broken = await rawRequest(socket, 'POST', '/containers/create', {
      headers: json,
      body: '{"Image": ',
    });
    expect(broken.status).toBe(400);
    expect(message(broken.body)).toMatch(/not valid JSON/);
    const text = await rawRequest(socket, 'POST', '/containers/create', {
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ Image: td.image }),
    });
    expect(text.status).toBe(400);
    const typed = await rawRequest(socket, 'POST', '/containers/create', {
      headers: json,
      body: JSON.stringify({ Image: td.image, HostConfig: { Privileged: 'true' } }),
    });
    expect(typed.status).toBe(400);
    expect(message(typed.body)).toMatch(/HostConfig.Privileged: expected a boolean/);
  });

  it('an oversized body: 413', async () => {
    const body = JSON.stringify({ Image: td.image, Env: ['X='.padEnd(2 * 1024 * 1024, 'x')] });
    const answer = await rawRequest(socket, 'POST', '/containers/create', { headers: json, body });
    expect(answer.status).toBe(413);
  });

  it('a body where the endpoint takes none (API < 1.24 read a HostConfig on start): 400', async () => {
    const answer = await rawRequest(socket, 'POST', '/containers/anything/start', {
      headers: json,
      body: JSON.stringify({ Privileged: true, Binds: ['/:/host'] }),
    });
    expect(answer.status).toBe(400);
    expect(message(answer.body)).toMatch(/takes no request body/);
  });

  it('Content-Length and Transfer-Encoding together (request smuggling): refused by the parser', async () => {
    const answer = await rawBytes(
      socket,
      'POST /containers/create HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\nContent-Length: 4\r\n' +
        'Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    );
    expect(answer).toMatch(/^HTTP\/1.1 400/);
  });

  it('a chunked body is read whole and decided on', async () => {
    const body = JSON.stringify({ Image: td.image, Cmd: ['true'] });
    const answer = await rawBytes(
      socket,
      `POST /containers/create?name=${prefix}-chunked HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\n` +
        `Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1.1 201/);
  });

  it("keys in another case are Go's field names: lower-case privileged and ds01 labels are refused", async () => {
    const privileged = await rawRequest(socket, 'POST', '/containers/create', {
      headers: json,
      body: JSON.stringify({ image: td.image, hostconfig: { privileged: true } }),
    });
    expect(privileged.status).toBe(403);
    expect(message(privileged.body)).toMatch(/privileged/);
    const label = await rawRequest(socket, 'POST', '/containers/create', {
      headers: json,
      body: JSON.stringify({ Image: td.image, labels: { 'ds01.user': 'someone-else' } }),
    });
    expect(label.status).toBe(403);
  });

  it('exec with privileges (docker exec --privileged) is refused, in any case of the key', async () => {
    const box = await rawRequest(socket, 'POST', `/containers/create?name=${prefix}-exec-target`, {
      headers: json,
      body: JSON.stringify({ Image: td.image, Cmd: ['sleep', '60'] }),
    });
    expect(box.status).toBe(201);
    for (const body of [
      { Cmd: ['id'], Privileged: true },
      { cmd: ['id'], PRIVILEGED: true },
    ]) {
      const exec = await rawRequest(socket, 'POST', `/containers/${prefix}-exec-target/exec`, {
        headers: json,
        body: JSON.stringify(body),
      });
      expect(exec.status).toBe(403);
      expect(message(exec.body)).toMatch(/privileged exec is not allowed/);
    }
  });

  it('duplicate query parameters: the first is what dockerd reads, and what is decided and recorded', async () => {
    const first = `${prefix}-first`;
    const answer = await rawRequest(
      socket,
      'POST',
      `/containers/create?name=${first}&name=${prefix}-second`,
      {
        headers: json,
        body: JSON.stringify({ Image: td.image, Cmd: ['true'] }),
      },
    );
    expect(answer.status).toBe(201);
    const id = (JSON.parse(answer.body) as { Id: string }).Id;
    expect((await td.docker.getContainer(id).inspect()).Name).toBe(`/${first}`);
    const recorded = (await lab.events('ContainerCreateAuthorized')).find(
      (e) => e.streamId === `container-${id}`,
    );
    expect(recorded?.data).toMatchObject({ name: first });
  });

  it('a filters parameter repeated or of its own cannot widen the list past the caller', async () => {
    const other = await td.docker.createContainer({
      Image: td.image,
      name: `${prefix}-not-alices`,
      Cmd: ['true'],
    });
    const answer = await rawRequest(
      socket,
      'GET',
      `/containers/json?all=1&filters=${encodeURIComponent('{"name":["not-alices"]}')}&filters=${encodeURIComponent('{}')}`,
    );
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual([]);
    await other.remove({ force: true });
  });

  it('every refusal is on the log with its rule', async () => {
    const rules = new Set((await lab.events('AccessDenied')).map((e) => (e.data as { rule: string }).rule));
    expect(rules).toEqual(
      new Set([
        'bad-request',
        'not-allowed',
        'create-policy:privileged',
        'create-policy:reserved-label',
        'privileged',
      ]),
    );
  });
});
