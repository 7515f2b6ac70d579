// The operator console (/console) in a real browser against `portcullis dev`: a platform admin
// signs in through the dev issuer, finds an audit row made through the API by its actor's
// username and exports it, revokes a user's sessions (whose token the API then refuses),
// changes a member's role and sees the audit row, toggles a flag, and sees the Auth health
// charts after a burst of failed requests; an org admin sees only their org; a member has no
// access. Every page is photographed at 1280x800.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { startServer, launchBrowser, newPage, screenshot, signIn, api } from '../harness/index.js';

// One more persona: `ops`, an admin of the seeded org Acme.
const CONFIG = `
[[dev.personas]]
sub = "ops"
username = "ops"
memberships = [{ org = "Acme", role = "admin" }]
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

async function signInToConsole(page, persona, path = '/console') {
  await page.goto(server.at(path));
  await page.waitForURL(/\/dev-issuer\/oauth2\/authorize/);
  await signIn(page, { persona });
  await page.waitForURL((u) => u.pathname.startsWith('/console'));
}

async function acmeId() {
  const me = await api(server, '/v1/me', { token: server.adminToken });
  return me.json.memberships.find((m) => m.org_name === 'Acme').org_id;
}

test('a platform admin finds an API-made audit row by username and exports it', async () => {
  // A row made through the API by dev-member: a resource in Acme.
  const acme = await acmeId();
  const made = await api(server, `/v1/orgs/${acme}/resources`, {
    token: server.memberToken,
    method: 'POST',
    body: { kind: 'doc', name: 'quarterly-report' },
  });
  assert.equal(made.status, 201, made.text);

  const page = await newPage(browser);
  await signInToConsole(page, 'dev-admin');
  await page.getByRole('heading', { name: 'Console' }).waitFor();
  await screenshot(page, 'console-home');

  await page.getByRole('link', { name: 'Audit' }).first().click();
  await page.getByLabel('Actor').fill('dev-member');
  await page.getByLabel('Action').fill('resource.create');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/actor=dev-member/);
  const rows = page.locator('tbody tr');
  assert.equal(await rows.count(), 1);
  assert.match(await rows.first().innerText(), /resource\.create/);
  await rows.first().getByRole('link', { name: /Details/ }).click();
  await page.getByRole('heading', { name: /Row \d+/ }).waitFor();
  assert.match(await page.locator('table.diff').innerText(), /quarterly-report/);
  await screenshot(page, 'console-audit');

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'NDJSON' }).click(),
  ]);
  const lines = (await readFile(await download.path(), 'utf8')).trim().split('\n');
  assert.equal(lines.length, 1);
  const row = JSON.parse(lines[0]);
  assert.equal(row.action, 'resource.create');
  assert.equal(row.resource_id, made.json.id);

  await page.goto(server.at('/console/audit/chain'));
  await page.getByText(/Verified up to seq \d+, head hash [0-9a-f]{64}/).waitFor();
  assert.deepEqual(page.problems, []);
});

test('revoking a user\'s sessions from the Users page makes the API refuse their token', async () => {
  assert.equal((await api(server, '/v1/me', { token: server.memberToken })).status, 200);
  const page = await newPage(browser);
  await signInToConsole(page, 'dev-admin', '/console/users');
  await page.getByLabel(/Username, e-mail/).fill('dev-mem');
  await page.getByRole('button', { name: 'Search' }).click();
  // The search is a form GET: the picture waits for the page it loads, not the one it leaves.
  await page.waitForURL(/\/console\/users\?.*dev-mem/);
  await page.getByRole('link', { name: 'dev-member' }).waitFor();
  await screenshot(page, 'console-users');
  await page.getByRole('link', { name: 'dev-member' }).click();
  await page.getByText('Revoke all sessions…').click();
  await screenshot(page, 'console-user');
  await page.getByRole('button', { name: 'Revoke all sessions of dev-member' }).click();
  await page.getByText('Every session of this user started up to now is revoked.').waitFor();
  assert.equal((await api(server, '/v1/me', { token: server.memberToken })).status, 401);
  assert.deepEqual(page.problems, []);
});

test('changing a member\'s role shows up in the audit log; a flag is toggled', async () => {
  const acme = await acmeId();
  const page = await newPage(browser);
  await signInToConsole(page, 'dev-admin', `/console/orgs/${acme}/members`);
  await page.getByText('last owner: cannot be demoted').waitFor();
  await screenshot(page, 'console-members');
  const row = page.locator('tr', { hasText: 'dev-member' });
  await row.getByRole('combobox').selectOption('viewer');
  await row.getByRole('button', { name: /Change role/ }).click();
  await page.getByText('Role changed.').waitFor();
  await page.goto(server.at(`/console/orgs/${acme}/audit?action=membership.role`));
  assert.match(await page.locator('tbody tr').first().innerText(), /membership\.role/);

  await page.goto(server.at('/console/flags'));
  const section = page.locator('section', { has: page.getByRole('heading', { name: 'revocation.check_reads' }) });
  await section.getByLabel(/New value/).fill('false');
  await section.getByText('Change…').click();
  await section.getByRole('button', { name: 'Change revocation.check_reads' }).click();
  await page.getByText('Flag revocation.check_reads changed.').waitFor();
  const after = page.locator('section', { has: page.getByRole('heading', { name: 'revocation.check_reads' }) });
  assert.match(await after.innerText(), /Last changed by dev-admin/);
  await screenshot(page, 'console-flags');
  // Put it back, for the other tests.
  await after.getByLabel(/New value/).fill('null');
  await after.getByText('Change…').click();
  await after.getByRole('button', { name: 'Change revocation.check_reads' }).click();
  await page.getByText('Flag revocation.check_reads changed.').waitFor();
  assert.deepEqual(page.problems, []);
});

test('Auth health draws the last hour after a burst of failed requests', async () => {
  for (let i = 0; i < 30; i++) {
    assert.equal((await api(server, '/v1/me', { token: 'not-a-token' })).status, 401);
  }
  const page = await newPage(browser);
  await signInToConsole(page, 'dev-admin', '/console/health');
  await page.getByRole('heading', { name: 'Auth health' }).waitFor();
  assert.ok((await page.locator('svg.chart').count()) >= 5);
  assert.ok((await page.locator('svg.chart path.series').count()) >= 3);
  assert.ok((await page.locator('svg.chart .threshold').count()) >= 4);
  assert.match(await page.locator('main').innerText(), /failed: malformed/);
  await screenshot(page, 'console-health');
  assert.deepEqual(page.problems, []);
});

test('an org admin sees only their org; another org\'s page is 404', async () => {
  const other = await api(server, '/v1/orgs', {
    token: server.adminToken,
    method: 'POST',
    body: { name: 'Globex' },
  });
  assert.equal(other.status, 201);
  const page = await newPage(browser);
  await signInToConsole(page, 'ops', '/console/orgs');
  const text = await page.locator('main').innerText();
  assert.match(text, /Acme/);
  assert.doesNotMatch(text, /Globex/);
  await screenshot(page, 'console-org-admin');
  const res = await page.goto(server.at(`/console/orgs/${other.json.id}/members`));
  assert.equal(res.status(), 404);
  assert.equal((await page.goto(server.at('/console/audit'))).status(), 404);
});

test('a member is told they have no console access', async () => {
  const page = await newPage(browser);
  await page.goto(server.at('/console'));
  await signIn(page, { persona: 'dev-member' });
  await page.getByRole('heading', { name: 'No console access' }).waitFor();
  await screenshot(page, 'console-no-access');
});
