import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type GatewayLab, removeRunResources, startGatewayLab } from '../gateway/gatewayLab.ts';
import { describeWithDocker } from '../support/docker.ts';
import type { TestUser } from '../support/users.ts';

/**
 * `ds01 image ...` as alice and bob through their gateway sockets: an image built from a configured
 * base (the test busybox) with packages, in the user's namespace only, recorded (ImageBuilt),
 * deployed from, an image over the size limit removed with the build told, and bob unable to build
 * into or remove from alice's namespace.
 */
describeWithDocker('ds01 image: create, list, deploy from, rm as real users', (td) => {
  let lab: GatewayLab;
  let alice: TestUser;
  let bob: TestUser;
  const ds01 = join(process.cwd(), 'packages', 'cli', 'bin', 'ds01.js');
  const tool = `tool-${td.runId}`;
  const big = `big-${td.runId}`;
  const as = (user: TestUser, ...args: string[]) =>
    lab.as(user, ds01, ['--config-dir', lab.configDir, ...args], { timeoutMs: 50_000 });
  const namespace = (user: TestUser) => `ds01-${user.name}/`;

  beforeAll(async () => {
    lab = await startGatewayLab(td, ['alice', 'bob'], {
      editYaml: (yaml) =>
        `${yaml}
images:
  default_base: busybox
  max_size_gb: 0.005
  bases:
    busybox: { image: "${td.image}", install: "touch", description: "the test busybox" }
    fat: { image: "${td.image}", install: "sh -c 'dd if=/dev/zero of=/$0 bs=1M count=8'" }
`,
    });
    alice = lab.users['alice']!;
    bob = lab.users['bob']!;
  });
  afterAll(async () => {
    await lab?.stop();
    await removeRunResources(td, td.runId);
    for (const user of [alice, bob]) {
      for (const name of [tool, big])
        await td.docker
          .getImage(`${namespace(user)}${name}`)
          .remove()
          .catch(() => {});
    }
  });

  it('builds ds01-<user>/<name> from a base with packages, streams the build, records it; deploys from it', {
    timeout: 60_000,
  }, async () => {
    const bases = await as(alice, 'image', 'bases');
    expect(bases.stdout).toMatch(/busybox \(default\)\s+ds01-test\/busybox/);
    const built = await as(alice, 'image-create', tool, '--packages', 'numpy', 'pandas==2.2');
    expect(built.code, built.stderr).toBe(0);
    expect(built.stdout).toMatch(/Step 1\/3 : FROM ds01-test\/busybox/);
    expect(built.stdout).toContain("RUN touch 'numpy' 'pandas==2.2'");
    expect(built.stdout).toContain(`built ${namespace(alice)}${tool}:latest`);
    const [recorded] = (await lab.events('ImageBuilt')).filter(
      (e) => (e.data as { image: string }).image === `${namespace(alice)}${tool}:latest`,
    );
    expect(recorded?.data).toMatchObject({ user: alice.name, sizeBytes: expect.any(Number) });
    expect(recorded?.metadata.actor).toEqual({ kind: 'user', name: alice.name });

    const listed = JSON.parse((await as(alice, 'image', 'list', '--json')).stdout) as Array<{
      image: string;
    }>;
    expect(listed.map((i) => i.image)).toContain(`${namespace(alice)}${tool}:latest`);
    const bobs = JSON.parse((await as(bob, 'image', 'list', '--json')).stdout) as Array<{ image: string }>;
    expect(bobs).toEqual([]);

    // deploy takes ds01-<user>/<name> by default.
    const deployed = await as(alice, 'container', 'deploy', tool, '--cpu-only');
    expect(deployed.code, deployed.stderr).toBe(0);
    const inside = await as(alice, 'container', 'exec', tool, '--', 'ls', '/numpy', '/pandas==2.2');
    expect(inside.code, inside.stderr).toBe(0);
  });

  it("bob can neither build into alice's namespace nor remove her image", async () => {
    const docker = (user: TestUser, ...args: string[]) => lab.as(user, 'docker', args);
    const evil = await lab.as(bob, 'sh', [
      '-c',
      `printf 'FROM ${td.image}\\n' | docker build -t ${namespace(alice)}${tool} -`,
    ]);
    expect(evil.code).not.toBe(0);
    expect(evil.stderr).toMatch(/not in your namespace/);
    const untagged = await lab.as(bob, 'sh', ['-c', `printf 'FROM ${td.image}\\n' | docker build -`]);
    expect(untagged.stderr).toMatch(/name the image: docker build -t ds01-/);
    const rmi = await docker(bob, 'rmi', `${namespace(alice)}${tool}`);
    expect(rmi.code).not.toBe(0);
    expect(rmi.stderr).toMatch(/not in your namespace/);
    const other = await docker(bob, 'rmi', td.image);
    expect(other.stderr).toMatch(/not in your namespace/);
    expect((await td.docker.getImage(`${namespace(alice)}${tool}`).inspect()).Id).toMatch(/^sha256:/);
  });

  it('an image over images.max_size_gb is removed and the build says so (exit 3, ImageRemoved)', {
    timeout: 60_000,
  }, async () => {
    const built = await as(alice, 'image', 'create', big, '--base', 'fat', '--packages', 'blob');
    expect(built.code, built.stderr).toBe(3);
    expect(built.stderr).toMatch(/larger than this server allows \(0\.005 GB, images\.max_size_gb\)/);
    await expect(td.docker.getImage(`${namespace(alice)}${big}`).inspect()).rejects.toMatchObject({
      statusCode: 404,
    });
    const removed = (await lab.events('ImageRemoved')).map((e) => e.data);
    expect(removed).toContainEqual(
      expect.objectContaining({ image: `${namespace(alice)}${big}:latest`, reason: 'over_size_limit' }),
    );
  });

  it('ds01 image rm removes her own image once no container uses it', { timeout: 30_000 }, async () => {
    const inUse = await as(alice, 'image', 'rm', tool);
    expect(inUse.code).toBe(1);
    expect(inUse.stderr).toMatch(/in use/);
    expect((await as(alice, 'container', 'retire', tool, '-t', '0')).code).toBe(0);
    const removed = await as(alice, 'image-delete', tool);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toBe(`removed ${namespace(alice)}${tool}:latest\n`);
    expect((await lab.events('ImageRemoved')).map((e) => e.data)).toContainEqual(
      expect.objectContaining({
        user: alice.name,
        image: `${namespace(alice)}${tool}:latest`,
        reason: 'removed',
      }),
    );
  });
});
