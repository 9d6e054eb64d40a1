import { describe, expect, it } from 'vitest';
import { gpuDenialNextStep, gpuStartFailureHint } from '../src/commands/gpuDenials.ts';

describe("a GPU denial's next step, for each of the allocator's reasons", () => {
  it.each([
    [
      { code: 'over_quota', held: 2, requested: 1, limit: 2 },
      ['thesis', 'nb'],
      /^you hold 2 of 2 GPUs$/,
      /^retire one with `ds01 container retire thesis` \(yours with GPUs: thesis, nb\), .*or ask your admin$/,
    ],
    [
      { code: 'over_group_limit', held: 1.57, requested: 0.43, limit: 2 },
      [],
      /you hold 1\.57 of 2 GPUs \(your group's limit\)/,
      /release what you hold/,
    ],
    [
      { code: 'no_free_slot', requested: 1, free: 0 },
      [],
      /none .* free now \(0 free, 1 asked\)/,
      /ds01 gpu status/,
    ],
    [{ code: 'over_container_cap', held: 0, requested: 3, cap: 2 }, [], /at most 2 GPUs/, /--gpus 2/],
    [{ code: 'full_gpu_not_allowed' }, [], /whole GPU/, /--profile 1g\.10gb/],
    [
      { code: 'unknown_profile', profile: '7g.80gb', available: ['full', '1g.10gb'] },
      [],
      /no 7g\.80gb slot/,
      /one of: full, 1g\.10gb/,
    ],
    [{ code: 'departed_user' }, [], /left the lab/, /admin/],
    [{ code: 'unknown_user' }, [], /does not know your account/, /ds01 user add/],
  ])('%j', (reason, withGpus, message, hint) => {
    const step = gpuDenialNextStep(reason, withGpus);
    expect(step.message).toMatch(message);
    expect(step.hint).toMatch(hint);
  });
});

describe('a granted GPU container that Docker would not start', () => {
  it.each([
    // dockerd without the NVIDIA Container Toolkit on its PATH (what the docker API answers).
    [
      'failed to create task for container: could not select device driver "nvidia" with capabilities: [[gpu]]',
      /has no NVIDIA runtime: ask your admin/,
    ],
    // The toolkit's hook refusing the devices (runc's wording around nvidia-container-cli's).
    [
      'OCI runtime create failed: runc create failed: error running hook #0: error running hook: exit status 1, ' +
        'stdout: , stderr: nvidia-container-cli: initialization error: nvml error: driver not loaded: unknown',
      /NVIDIA Container Toolkit could not give the container its GPU/,
    ],
  ])('%s', (message, hint) => {
    expect(gpuStartFailureHint(message)).toMatch(hint);
  });

  it("leaves a failure of the user's own image to Docker's words", () => {
    expect(
      gpuStartFailureHint(
        'failed to create task for container: exec: "/no/such/program": stat /no/such/program: no such file or directory',
      ),
    ).toBeNull();
  });
});
