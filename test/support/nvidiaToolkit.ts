import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * What the test dockerd's stand-in NVIDIA Container Toolkit hook (test/fixtures/nvidia-toolkit, on that
 * dockerd's PATH: see scripts/lib/services.sh) was asked for. dockerd runs it at each start of a
 * container with a GPU request; it writes the devices dockerd handed it to <requests>/<container id>.
 * So a container's record is what a real toolkit would have mounted into it.
 */
export const DEFAULT_NVIDIA_REQUESTS = '/run/ds01-test/nvidia-toolkit/requests';

/**
 * The devices the hook was given at the container's (last) start, or null when it never ran for it
 * (a container without a GPU request, or one never started). `containerId` is the full 64-hex id.
 */
export async function nvidiaDevicesOf(containerId: string): Promise<string[] | null> {
  const dir = process.env['DS01_TEST_NVIDIA_REQUESTS'] || DEFAULT_NVIDIA_REQUESTS;
  try {
    const line = (await readFile(join(dir, containerId), 'utf8')).trim();
    return line === '' ? [] : line.split(',');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
