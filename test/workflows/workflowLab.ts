import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestDocker } from '../support/docker.ts';
import type { TestUser } from '../support/users.ts';

/**
 * ds01.yaml's `images:` for a workflow suite: the test busybox as the default base (the real
 * site's PyTorch/TensorFlow images cannot be pulled here), plus `extraBases` (YAML lines under
 * `bases:`, indented four spaces).
 */
export function busyboxImages(td: TestDocker, extraBases = ''): (yaml: string) => string {
  return (yaml) => `${yaml}
images:
  default_base: busybox
  bases:
    busybox: { image: "${td.image}", install: "touch" }
${extraBases}`;
}

/** What a suite's user made: their image `ds01-<user>/<name>` and these folders of their home. */
export async function removeUserLeftovers(
  td: TestDocker,
  user: TestUser,
  name: string,
  folders: readonly string[] = [name],
): Promise<void> {
  await td.docker
    .getImage(`ds01-${user.name}/${name}`)
    .remove({ force: true })
    .catch(() => {});
  for (const folder of folders) await rm(join(user.home, folder), { recursive: true, force: true });
}
