import { describe, expect, it } from 'vitest';
import { gatewayConfigOf } from '../src/index.ts';

describe('the gateway: section of ds01.yaml', () => {
  const yaml = { gateway: { users_dir: '/srv/ds01/users' } };

  it('serves under /run/ds01 by default, the admin socket beside the users', () => {
    const config = gatewayConfigOf({}, {});
    expect([config.users_dir, config.admin_socket]).toEqual([
      '/run/ds01/users',
      '/run/ds01/admin/docker.sock',
    ]);
  });

  it('takes DS01_GATEWAY_USERS_DIR over users_dir (ds01d side by side, as suites run them)', () => {
    expect(gatewayConfigOf(yaml, {}).users_dir).toBe('/srv/ds01/users');
    const config = gatewayConfigOf(yaml, { DS01_GATEWAY_USERS_DIR: '/tmp/ds01-gw-1/users' });
    expect([config.users_dir, config.admin_socket]).toEqual([
      '/tmp/ds01-gw-1/users',
      '/tmp/ds01-gw-1/admin/docker.sock',
    ]);
    expect(gatewayConfigOf(yaml, { DS01_GATEWAY_USERS_DIR: '' }).users_dir).toBe('/srv/ds01/users');
  });

  it('refuses a DS01_GATEWAY_USERS_DIR that is not an absolute path, saying what to do', () => {
    expect(() => gatewayConfigOf(yaml, { DS01_GATEWAY_USERS_DIR: 'run/users' })).toThrow(
      expect.objectContaining({
        message: "DS01_GATEWAY_USERS_DIR='run/users' is not an absolute path",
        hint: 'unset DS01_GATEWAY_USERS_DIR or give it an absolute path, e.g. /run/ds01/users',
      }),
    );
  });
});
