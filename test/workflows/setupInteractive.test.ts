import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type GatewayLab, removeRunResources, startGatewayLab } from '../gateway/gatewayLab.ts';
import { describeWithDocker } from '../support/docker.ts';
import type { TestUser } from '../support/users.ts';
import { busyboxImages, removeUserLeftovers } from './workflowLab.ts';

/**
 * Drives a program on a real pseudo-terminal (python3's pty module): waits for each prompt, types
 * its answer, then prints all it saw and the exit status. argv: the JSON steps, then the program.
 */
const PTY_DRIVER = `
import json, os, pty, select, sys, time
steps = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
seen = b''
# Each prompt is looked for after the one before: a word printed earlier (GPUs) is not its prompt.
pos = 0
def read_until(text, deadline):
    global seen, pos
    while text.encode() not in seen[pos:]:
        if time.time() > deadline: sys.exit('timed out waiting for the prompt ' + repr(text) + ' in ' + repr(seen))
        try: chunk = os.read(fd, 4096)
        except OSError: chunk = b''
        if not chunk: sys.exit('the program ended before the prompt ' + repr(text) + ': ' + repr(seen))
        seen += chunk
    pos = seen.index(text.encode(), pos) + len(text)
for prompt, answer in steps:
    read_until(prompt, time.time() + 30)
    os.write(fd, answer.encode())
deadline = time.time() + 40
while True:
    if time.time() > deadline:
        sys.stdout.write(seen.decode(errors='replace'))
        sys.exit('timed out waiting for the program to end')
    if not select.select([fd], [], [], 1)[0]: continue
    try: chunk = os.read(fd, 4096)
    except OSError: break
    if not chunk: break
    seen += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors='replace'))
print('EXIT', os.waitstatus_to_exitcode(status))
`;

describeWithDocker('ds01 setup on a terminal as a real user', (td) => {
  let lab: GatewayLab;
  let alice: TestUser;
  const ds01 = join(process.cwd(), 'packages', 'cli', 'bin', 'ds01.js');
  const name = `setup-tty-${td.runId}`;
  const stopped = `setup-stop-${td.runId}`;
  const pty = (steps: [string, string][], ...args: string[]) =>
    lab.as(
      alice,
      '/usr/bin/python3',
      ['-c', PTY_DRIVER, JSON.stringify(steps), ds01, '--config-dir', lab.configDir, ...args],
      { timeoutMs: 50_000 },
    );

  beforeAll(async () => {
    lab = await startGatewayLab(td, ['alice'], {
      editYaml: busyboxImages(td),
    });
    alice = lab.users['alice']!;
  });
  afterAll(async () => {
    await lab?.stop();
    await removeRunResources(td, td.runId);
    await removeUserLeftovers(td, alice, name);
    await removeUserLeftovers(td, alice, stopped);
  });

  it('Ctrl-C at the second prompt leaves no folder and no container', async () => {
    const folder = join(alice.home, name);
    const run = await pty(
      [
        ['Project folder', `${folder}\r`],
        ['Template', '\x03'],
      ],
      'setup',
    );
    expect(run.stdout, `${run.stdout}\n${run.stderr}`).toContain('EXIT 130');
    expect(run.stdout).toContain('nothing was created');
    expect(existsSync(folder)).toBe(false);
    const containers = await td.docker.listContainers({ all: true, filters: { name: [name] } });
    expect(containers).toEqual([]);
  });

  it('Ctrl-C once the image is built undoes the image, the folder and any container', {
    timeout: 60_000,
  }, async () => {
    const folder = join(alice.home, stopped);
    const image = `ds01-${alice.name}/${stopped}:latest`;
    const run = await pty(
      [
        ['Project folder', `${folder}\r`],
        ['Template', 'minimal\r'],
        ['GPUs', '0\r'],
        // The classic builder's last line: the image exists now, the container may or may not.
        [`Successfully tagged ${image}`, '\x03'],
      ],
      'setup',
    );
    expect(run.stdout, `${run.stdout}\n${run.stderr}`).toContain('EXIT 130');
    expect(run.stdout).toContain(`undone: removed image ${image}`);
    expect(run.stdout).toContain(`undone: removed ${folder}`);
    expect(existsSync(folder)).toBe(false);
    await expect(td.docker.getImage(image).inspect()).rejects.toMatchObject({ statusCode: 404 });
    const containers = await td.docker.listContainers({ all: true, filters: { name: [stopped] } });
    expect(containers).toEqual([]);
  });

  it('typed answers make the project and its running container', { timeout: 60_000 }, async () => {
    const folder = join(alice.home, name);
    const run = await pty(
      [
        ['Project folder', `${folder}\r`],
        ['Template', 'minimal\r'],
        ['GPUs', '0\r'],
      ],
      'setup',
    );
    expect(run.stdout, `${run.stdout}\n${run.stderr}`).toContain('EXIT 0');
    expect(run.stdout).toContain(`made project ${name} in ${folder}`);
    const container = await td.docker.getContainer(`${name}._.${alice.uid}`).inspect();
    expect(container.State.Running).toBe(true);
  });
});
