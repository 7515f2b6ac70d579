// The faults page in a real browser: it renders under its strict CSP, its forms work (CSRF
// token included) and the fault shows in the log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, screenshot } from '../harness/index.js';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the faults page applies a fault from its form and lists it', async () => {
  const page = await newPage(browser);
  await page.goto(server.at('/dev-issuer/faults'));
  await page.getByLabel('Next tokens are').selectOption('wrong-audience');
  await page.getByLabel('how many').fill('2');
  await page.getByRole('button', { name: 'Break the next tokens' }).click();
  await page.waitForURL(server.at('/dev-issuer/faults'));
  assert.match(await page.locator('dd').nth(2).innerText(), /next 2 token\(s\) are wrong-audience/);

  await page.getByRole('button', { name: 'Publish a second key' }).click();
  await page.waitForLoadState();
  assert.equal(await page.locator('dd ul li').count(), 2);
  assert.match(await page.locator('tbody').innerText(), /published a second key/);
  assert.deepEqual(page.problems, []);
  await screenshot(page, 'dev-issuer-faults');
  await page.context().close();
});

test('a form post without the page\'s CSRF token is refused', async () => {
  const res = await fetch(server.at('/dev-issuer/faults'), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'fault=rotate-key',
  });
  assert.equal(res.status, 403);
});
