// Drives the dev issuer's sign-in page: pick a persona (or type a sub), answer the TOTP prompt.
import { totp } from './totp.js';

/**
 * On a page showing /dev-issuer's sign-in page, signs in as `persona` (its username or sub, as
 * listed on the page) or, with `sub`, as any other subject. With `totpSecret`, answers the code
 * prompt that a TOTP persona gets. Returns once the page has left the sign-in form.
 */
export async function signIn(page, { persona, sub, totpSecret, beforeCode } = {}) {
  if (sub !== undefined) {
    await page.getByLabel(/\(sub\)/).fill(sub);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  } else {
    await page.getByRole('button', { name: new RegExp(escape(persona)) }).first().click();
  }
  if (totpSecret !== undefined) {
    const field = page.getByLabel(/code/i);
    await field.waitFor();
    if (beforeCode) await beforeCode(page);
    await field.fill(totp(totpSecret));
    await page.getByRole('button', { name: 'Verify' }).click();
  }
}

function escape(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
