import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { safeReturnPath } from '../../src/account/account-sign-in.ts';

describe('the page /account returns to after a sign-in', () => {
  it('is a path under /account', () => {
    for (const path of ['/account', '/account/password', '/account/two-step/enrol', '/account#sessions'])
      assert.equal(safeReturnPath(path), path);
  });

  it('is /account for anything else: other paths, other origins, tricks', () => {
    for (const path of [
      'https://evil.example/account',
      '//evil.example/account',
      '/account//evil.example',
      '/accountant',
      '/account/../admin',
      '/account/%2e%2e/admin',
      '/account\\evil',
      '/account?next=https://evil.example',
      '/admin',
      '',
      undefined,
      ['/account/password'],
      'javascript:alert(1)',
    ])
      assert.equal(safeReturnPath(path), '/account', String(path));
  });
});
