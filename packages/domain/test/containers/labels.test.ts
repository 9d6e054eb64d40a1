import { LEGACY_LABELS, readDs01Labels } from '@ds01/domain';
import { describe, expect, it } from 'vitest';

describe('legacy aime.mlc.* labels read as ds01.* labels', () => {
  // One case per row of the mapping table: the legacy label alone gives its ds01 label's value.
  it.each(LEGACY_LABELS.map(([legacy, ds01]) => ({ legacy, ds01 })))(
    '$legacy → $ds01',
    ({ legacy, ds01 }) => {
      const labels = readDs01Labels({ [legacy]: 'value-1' });
      expect(labels.values[ds01]).toBe('value-1');
      expect(labels.fromLegacy[ds01]).toBe(legacy);
    },
  );

  it('covers every legacy label of ds01-infra config/label-schema.yaml ("Replaces aime.mlc.X" notes)', () => {
    const schemaReplacements = [
      'aime.mlc.USER',
      'aime.mlc.DS01_MANAGED',
      'aime.mlc.DS01_TYPE',
      'aime.mlc.NAME',
      'aime.mlc.ARCH',
      'aime.mlc.FRAMEWORK',
      'aime.mlc.DS01_FRAMEWORK',
      'aime.mlc.MLC_VERSION',
      'aime.mlc.CUSTOM_IMAGE',
      'aime.mlc.DS01_CREATED',
      'aime.mlc.WORK_MOUNT',
      'aime.mlc.DATA_MOUNT',
      'aime.mlc.MODELS_MOUNT',
      'aime.mlc.DS01_WORKSPACE',
      'aime.mlc.DS01_PROJECT',
      'aime.mlc.GPUS',
      'aime.mlc.DS01_HAS_USER_SETUP',
      'aime.mlc.DS01_USER_ID',
      'aime.mlc.DS01_GROUP_ID',
      'aime.mlc.DS01_USERNAME',
      'aime.mlc.DS01_CONTAINER',
      'aime.mlc.DS01_IMAGE',
    ];
    const mapped = new Set(LEGACY_LABELS.map(([legacy]) => legacy));
    expect(schemaReplacements.filter((label) => !mapped.has(label))).toEqual([]);
  });

  it('a ds01 label wins over its legacy name', () => {
    const labels = readDs01Labels({ 'ds01.user': 'alice', 'aime.mlc.USER': 'bob' });
    expect(labels.values['ds01.user']).toBe('alice');
    expect(labels.fromLegacy['ds01.user']).toBeUndefined();
  });

  it('an empty ds01 label counts as absent, as ds01-infra`s `if owner:` does', () => {
    expect(readDs01Labels({ 'ds01.user': '', 'aime.mlc.USER': 'bob' }).values['ds01.user']).toBe('bob');
  });

  it('among legacy owner labels aime.mlc.USER comes before the bare aime.mlc', () => {
    expect(readDs01Labels({ 'aime.mlc': 'carol', 'aime.mlc.USER': 'bob' }).values['ds01.user']).toBe('bob');
  });

  it('ignores labels of other namespaces', () => {
    expect(readDs01Labels({ 'com.docker.compose.project': 'x' }).values).toEqual({});
  });
});
