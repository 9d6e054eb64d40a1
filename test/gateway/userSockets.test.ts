import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithDocker } from '../support/docker.ts';
import { labConfigDir, ready, runDs01, startDs01d } from '../support/ds01d.ts';
import { ensureTestUser } from '../support/users.ts';
import { waitUntil } from '../support/waitUntil.ts';
import { type GatewayLab, rawRequest, startGatewayLab } from './gatewayLab.ts';

/** Sockets follow the users: registered, departed, listed in a group's members file. */
describeWithDocker("the gateway's sockets", (td) => {
  let lab: GatewayLab;

  beforeAll(async () => {
    lab = await startGatewayLab(td, ['alice']);
  });
  afterAll(async () => {
    await lab?.stop();
  });

  it("a user's socket is theirs alone: 0600 in a 0700 folder, both owned by them; the admin socket is root's", () => {
    const alice = lab.users['alice']!;
    const socket = lstatSync(lab.socketOf(alice));
    expect(socket.isSocket()).toBe(true);
    expect([socket.uid, socket.gid, socket.mode & 0o777]).toEqual([alice.uid, alice.gid, 0o600]);
    const folder = lstatSync(dirname(lab.socketOf(alice)));
    expect([folder.uid, folder.mode & 0o777]).toEqual([alice.uid, 0o700]);
    const usersDir = statSync(lab.usersDir);
    expect([usersDir.uid, usersDir.mode & 0o777]).toEqual([0, 0o755]);
    const admin = lstatSync(lab.adminSocket);
    expect([admin.uid, admin.mode & 0o777, statSync(dirname(lab.adminSocket)).mode & 0o777]).toEqual([
      0, 0o600, 0o700,
    ]);
  });

  it('ds01 user add opens a socket while ds01d runs; ds01 user remove closes it', async () => {
    const bob = await ensureTestUser('bob');
    const socket = lab.socketOf(bob);
    expect(existsSync(socket)).toBe(false);
    const added = await runDs01(['user', 'add', bob.name, '--group', 'researcher'], lab);
    expect(added.code, added.stderr).toBe(0);
    await waitUntil(() => existsSync(socket), "bob's socket to appear", 15_000);
    expect(JSON.parse((await rawRequest(socket, 'GET', '/ds01/v1/whoami')).body)).toMatchObject({
      user: bob.name,
      group: 'researcher',
    });
    const listed = await runDs01(['user', 'list', '--json'], lab);
    expect(JSON.parse(listed.stdout).map((u: { user: string }) => u.user)).toContain(bob.name);
    expect((await runDs01(['user', 'remove', bob.name], lab)).code).toBe(0);
    await waitUntil(() => !existsSync(socket), "bob's socket to go", 15_000);
  });

  it('ds01 user add refuses a name the host does not know, and never reads it as an option', async () => {
    for (const name of ['ds01t-nobody-here', '--service=nis']) {
      const added = await runDs01(['user', 'add', '--', name], lab);
      expect(added.code).toBe(1);
      expect(added.stderr).toContain(`no unix user '${name}'`);
    }
  });

  it('a member of a group in config/groups gets a socket when the members file lists them', async () => {
    const carol = await ensureTestUser('carol');
    await appendFile(join(lab.configDir, 'groups', 'student.members'), `\n${carol.name}\n`);
    await waitUntil(() => existsSync(lab.socketOf(carol)), "carol's socket to appear", 20_000);
    expect(lstatSync(lab.socketOf(carol)).uid).toBe(carol.uid);
  });

  it('the admin socket is unrestricted, and its changes are recorded', async () => {
    const answer = await rawRequest(
      lab.adminSocket,
      'POST',
      '/containers/prune?filters=%7B%22label%22%3A%5B%22nothing-has-this%22%5D%7D',
    );
    expect(answer.status).toBe(200);
    const [call] = await lab.events('AdminCallForwarded');
    expect(call?.data).toMatchObject({ method: 'POST', path: '/containers/prune', uid: 0 });
  });

  it('a socket folder that cannot be made leaves ds01d running without sockets, and says what to do', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ds01-gateway-broken-'));
    try {
      const notAFolder = join(root, 'file');
      writeFileSync(notAFolder, '');
      const configDir = labConfigDir(join(root, 'config'), { host: `gw-broken-${td.runId}` });
      const yaml = join(configDir, 'ds01.yaml');
      writeFileSync(
        yaml,
        readFileSync(yaml, 'utf8').replace(
          /^gateway:\n/m,
          `gateway:\n  users_dir: ${notAFolder}/users\n  admin_socket: ${notAFolder}/admin.sock\n`,
        ),
      );
      const daemon = startDs01d({
        dataDir: join(root, 'data'),
        configDir,
        dockerHost: td.host,
        logLevel: 'info',
      });
      try {
        const said = await daemon.waitFor(
          (line) => /cannot make its socket folders/.test(line.msg ?? ''),
          'the gateway error',
        );
        expect(said.msg).toMatch(/Run ds01d as root, or set gateway.users_dir/);
        await daemon.waitFor(ready, 'ds01d ready');
      } finally {
        await daemon.stop();
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
