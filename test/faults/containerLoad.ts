import { startChild } from './childProcess.ts';
import type { Ledger } from './ledger.ts';
import type { SeededRandom } from './random.ts';
import type { Site } from './site.ts';

export interface ContainerLoadOptions {
  site: Site;
  ledger: Ledger;
  random: SeededRandom;
  image: string;
  stopped: () => boolean;
}

export class DockerCommandError extends Error {
  override readonly name = 'DockerCommandError';
}

/** `docker -H <the site's dockerd> ARGS`, its stdout trimmed; throws with stderr when it fails. */
export async function docker(site: Site, args: readonly string[]): Promise<string> {
  const result = await startChild('docker', ['-H', site.dockerHost, ...args]).done;
  if (result.code !== 0) {
    throw new DockerCommandError(`docker ${args.join(' ')} failed (${result.code}): ${result.stderr.trim()}`);
  }
  return result.stdout.trim();
}

/**
 * Short-lived busybox containers started with the docker CLI, labelled as this run's; now and then
 * the exited ones are removed. ds01d's docker watcher records them while it runs and reconciles
 * what happened while it was down.
 */
export async function containerLoop(options: ContainerLoadOptions): Promise<void> {
  const { site, ledger, random, stopped } = options;
  const labels = site.containerLabels.flatMap((label) => ['--label', label]);
  while (!stopped()) {
    const seconds = random.pick(['0', '0.2', '0.5', '1', '2']);
    const id = await docker(site, ['run', '-d', ...labels, options.image, 'sh', '-c', `sleep ${seconds}`]);
    ledger.containers.set(id, { id, removed: false });
    if (random.chance(0.3)) await removeSomeExited(options);
    // A container every second or so: enough to keep the watcher busy, not enough to starve a 2-core machine.
    await new Promise((resolve) => setTimeout(resolve, random.between(200, 1000)));
  }
}

async function removeSomeExited(options: ContainerLoadOptions): Promise<void> {
  const { site, ledger, random } = options;
  const exited = (
    await docker(site, [
      'ps',
      '-aq',
      '--no-trunc',
      '--filter',
      `label=${site.containerLabels[1]}`,
      '--filter',
      'status=exited',
    ])
  )
    .split('\n')
    .filter(Boolean)
    .filter(() => random.chance(0.5));
  if (exited.length === 0) return;
  await docker(site, ['rm', ...exited]);
  for (const id of exited) ledger.containers.set(id, { id, removed: true });
}
