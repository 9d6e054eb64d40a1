import { describe, expect, it } from 'vitest';
import { pullNamespaceProblem, userImageRef, userImageRefProblem } from '../../src/images/events.ts';

describe("users' image names", () => {
  it('names a user image in their namespace, keeping a tag given', () => {
    expect(userImageRef('alice', 'thesis')).toBe('ds01-alice/thesis:latest');
    expect(userImageRef('alice', 'ds01-alice/thesis:v2')).toBe('ds01-alice/thesis:v2');
    expect(userImageRefProblem('alice', 'ds01-alice/thesis:latest')).toBeUndefined();
    expect(userImageRefProblem('alice', 'ds01-bob/thesis:latest')).toMatch(/not in your namespace/);
    expect(userImageRefProblem('alice', 'ds01-alice/Thesis')).toMatch(/lowercase/);
  });

  it("refuses a pull that would tag an image in another user's namespace, however Docker Hub is spelled", () => {
    for (const name of ['ds01-bob/thesis', 'docker.io/ds01-bob/thesis', 'index.docker.io/ds01-bob/x']) {
      expect(pullNamespaceProblem('alice', name)).toMatch(
        /in ds01-bob's namespace: your images are ds01-alice\//,
      );
    }
    expect(pullNamespaceProblem('alice', 'ds01-bob')).toMatch(/ds01-bob's namespace/);
  });

  it('lets a user pull shared images, their own namespace and other registries', () => {
    for (const name of ['busybox', 'pytorch/pytorch', 'ds01-alice/thesis', 'reg.lab:5000/ds01-bob/x', '']) {
      expect(pullNamespaceProblem('alice', name)).toBeUndefined();
    }
  });
});
