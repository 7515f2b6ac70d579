// The example single-page app in a real browser against `portcullis dev`: sign in with the code
// flow and PKCE, /v1/me with the persona's seeded orgs, refresh, sign out (after which the old
// access token is refused by the API); then a TOTP persona passes the step-up challenge of an
// MFA-protected route.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, screenshot, signIn, api } from '../harness/index.js';

// The default TOTP persona's secret (docs/dev-issuer.md).
const DEV_MFA_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

// The audit route of an org needs MFA proof, and the challenge asks for it by name.
const CONFIG = `
[mfa]
routes = ["/v1/orgs/{org_id}/audit"]
acr_values = ["mfa"]
max_age_secs = 300
`;

let server;
let browser;

before(async () => {
  server = await startServer({ config: CONFIG });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function openApp(page) {
  await page.goto(server.at('/examples/spa/'));
  await page.waitForSelector('body[data-ready="true"]');
}

async function tokens(page) {
  return page.evaluate(() => JSON.parse(sessionStorage.getItem('portcullis-example.tokens')));
}

async function signedInAs(page, username) {
  await page.waitForSelector('body[data-ready="true"]');
  await page.locator('#signed-in').waitFor();
  assert.equal(await page.locator('#username').innerText(), username);
}

test('sign in, see /v1/me with the seeded orgs, refresh, sign out; the old token is refused', async () => {
  const page = await newPage(browser);
  await openApp(page);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/dev-issuer\/oauth2\/authorize/);
  await screenshot(page, 'dev-issuer-sign-in');
  await signIn(page, { persona: 'dev-member' });
  await page.waitForURL(server.at('/examples/spa/'));
  await signedInAs(page, 'dev-member');
  assert.deepEqual(await page.locator('#orgs li').allInnerTexts(), ['Acme (member)']);
  await screenshot(page, 'example-app-signed-in');

  // What the app shows is what the API says.
  const first = await tokens(page);
  const me = await api(server, '/v1/me', { token: first.access_token });
  assert.equal(me.status, 200);
  assert.equal(me.json.sub, 'dev-member');
  assert.deepEqual(me.json.memberships.map((m) => [m.org_name, m.role]), [['Acme', 'member']]);

  await page.getByRole('button', { name: 'Refresh the token' }).click();
  await page.getByText('Token refreshed.').waitFor();
  const second = await tokens(page);
  assert.notEqual(second.access_token, first.access_token);
  assert.notEqual(second.refresh_token, first.refresh_token, 'the refresh token rotates');
  assert.equal((await api(server, '/v1/me', { token: second.access_token })).status, 200);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(server.at('/examples/spa/'));
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  assert.equal(await tokens(page), null, 'no token left in the tab');
  for (const old of [first.access_token, second.access_token]) {
    const res = await api(server, '/v1/me', { token: old });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate'), /invalid_token/);
  }
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('a TOTP persona passes the step-up challenge of an MFA-protected route', async () => {
  const page = await newPage(browser);
  await openApp(page);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await signIn(page, { persona: 'dev-mfa' });
  await signedInAs(page, 'dev-mfa');
  assert.equal(await page.locator('#amr').innerText(), 'pwd', 'a plain sign-in asks for no code');

  const orgId = await page.locator('#orgs li').first().getAttribute('data-org-id');
  const audit = `/v1/orgs/${orgId}/audit`;
  await page.getByLabel('GET').fill(audit);
  await page.getByRole('button', { name: 'Send' }).click();
  await page.locator('#step-up-needed').waitFor();
  assert.match(await page.locator('#call-status').innerText(), /^401/);

  await page.getByRole('button', { name: 'Sign in again with MFA' }).click();
  await page.waitForURL(/acr_values=mfa/);
  await signIn(page, {
    persona: 'dev-mfa',
    totpSecret: DEV_MFA_SECRET,
    beforeCode: (p) => screenshot(p, 'dev-issuer-totp'),
  });
  await signedInAs(page, 'dev-mfa');
  // Back in the app, the call that was refused is made again with the new token.
  await page.locator('#call-status', { hasText: /^200/ }).waitFor();
  assert.match(await page.locator('#amr').innerText(), /otp|mfa/);
  const { access_token: stepped } = await tokens(page);
  assert.equal((await api(server, audit, { token: stepped })).status, 200);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('the app refuses a sign-in answer it did not ask for', async () => {
  const page = await newPage(browser);
  // A code and state injected into the callback URL, with no sign-in started in this tab.
  await page.goto(server.at('/examples/spa/?code=stolen&state=forged'));
  await page.waitForSelector('body[data-ready="true"]');
  assert.match(await page.locator('#message').innerText(), /does not match a sign-in this tab started/);
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  assert.equal(await tokens(page), null);
  assert.equal(new URL(page.url()).search, '', 'the code is removed from the address bar');

  // An error answer from the issuer is shown, not followed.
  await page.goto(server.at('/examples/spa/?error=access_denied&error_description=the+user+cancelled'));
  await page.waitForSelector('body[data-ready="true"]');
  assert.match(await page.locator('#message').innerText(), /access_denied/);
  assert.equal(await tokens(page), null);
  await page.context().close();
});
