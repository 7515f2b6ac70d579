// The harness's own pieces that need no browser: the TOTP codes the sign-in suites type.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { totp, base32Decode } from '../harness/index.js';

// RFC 6238 appendix B, SHA-1, secret "12345678901234567890", last six digits of each code.
const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

test('TOTP codes match the RFC 6238 test vectors', () => {
  assert.equal(base32Decode(SECRET).toString(), '12345678901234567890');
  assert.equal(totp(SECRET, 59), '287082');
  assert.equal(totp(SECRET, 1111111109), '081804');
  assert.equal(totp(SECRET, 1234567890), '005924');
  assert.equal(totp(SECRET, 2000000000), '279037');
});

test('a secret that is not base32 is refused', () => {
  assert.throws(() => totp('not base32!'), /base32/);
});
