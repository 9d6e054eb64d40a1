import { afterAll, expect, it } from 'vitest';
import { cleanupTestRun, createTestContainer, describeWithDocker, runFilter } from '../support/docker.ts';
import { ensureTestUser } from '../support/users.ts';

/** The test dockerd itself: what every docker suite relies on works here. */
describeWithDocker('the test dockerd', (td) => {
  afterAll(() => cleanupTestRun(td));

  it('runs a busybox container to completion and keeps its output and exit code', async () => {
    const container = await createTestContainer(td, { cmd: ['sh', '-c', 'echo hello from busybox; exit 3'] });
    await container.start();
    const { StatusCode } = await container.wait();
    expect(StatusCode).toBe(3);
    const logs = await container.logs({ stdout: true, stderr: true });
    expect(logs.toString('utf8')).toContain('hello from busybox');
  });

  it("shows the container's own cgroup from inside it, naming the container id", async () => {
    const container = await createTestContainer(td, { cmd: ['cat', '/proc/self/cgroup'] });
    await container.start();
    await container.wait();
    const cgroup = (await container.logs({ stdout: true })).toString('utf8');
    // cgroup v1 lists one line per hierarchy, v2 a single `0::/...` line; either way the id is in the path.
    expect(cgroup).toContain(container.id);
  });

  it('reports stats (cpu, memory) of a running container', async () => {
    const container = await createTestContainer(td, { start: true });
    const stats = await container.stats({ stream: false });
    expect(stats.cpu_stats.cpu_usage.total_usage).toBeGreaterThan(0);
    expect(stats.memory_stats.usage ?? 0).toBeGreaterThanOrEqual(0);
    expect(stats.pids_stats?.current ?? 1).toBeGreaterThanOrEqual(1);
    await container.remove({ force: true });
  });

  it('streams create/start/die/destroy events for a container, in order', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const container = await createTestContainer(td, { cmd: ['true'] });
    await container.start();
    await container.wait();
    await container.remove();
    const until = Math.ceil(Date.now() / 1000) + 1;
    // With `until` the daemon replays its event log for the window and ends the stream.
    const stream = await td.docker.getEvents({
      since,
      until,
      filters: { type: ['container'], container: [container.id] },
    });
    const actions: string[] = [];
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim()) actions.push(JSON.parse(line).Action);
      }
    }
    expect(actions).toEqual(['create', 'start', 'die', 'destroy']);
  });

  it('runs a container as a real test user, owning a file in their home', async () => {
    const user = await ensureTestUser('sanity');
    const container = await createTestContainer(td, {
      user: `${user.uid}:${user.gid}`,
      cmd: ['sh', '-c', 'id -u; stat -c %u /home/me'],
      hostConfig: { Binds: [`${user.home}:/home/me`] },
    });
    await container.start();
    await container.wait();
    const out = (await container.logs({ stdout: true })).toString('utf8');
    expect(out.match(/\d+/g)).toEqual([String(user.uid), String(user.uid)]);
  });

  it('finds everything this run made by its label', async () => {
    await createTestContainer(td);
    const listed = await td.docker.listContainers({ all: true, filters: JSON.stringify(runFilter(td)) });
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.every((c) => c.Labels['ds01.test.run'] === td.runId)).toBe(true);
  });
});
