// The system Chromium driven by playwright-core: headless, no downloads, no background traffic.
import { chromium } from 'playwright-core';

export const VIEWPORT = { width: 1280, height: 800 };

/** $PORTCULLIS_CHROMIUM, else Debian's /usr/bin/chromium. */
export function chromiumPath() {
  return process.env.PORTCULLIS_CHROMIUM || '/usr/bin/chromium';
}

export async function launchBrowser() {
  const args = [
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ];
  // Chromium refuses to run as root with its sandbox; CI and containers run as root.
  if (typeof process.getuid === 'function' && process.getuid() === 0) args.push('--no-sandbox');
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args });
}

/**
 * A fresh context (its own cookies and storage) and page at the documentation size. Console
 * errors (CSP violations among them), uncaught exceptions and failed loads of the page's own
 * resources are collected in `page.problems`, so a suite can assert none occurred. A 4xx/5xx
 * answer to a `fetch` the page makes on purpose is not a problem; the browser's own favicon
 * request is ignored.
 */
export async function newPage(browser) {
  const context = await browser.newContext({ viewport: VIEWPORT });
  // Every step here takes well under a second; a stuck one fails the test soon, with its log.
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  page.problems = [];
  page.on('console', (msg) => {
    // Reported below with its URL, or deliberate (an API call answered 401).
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) {
      page.problems.push(msg.text());
    }
  });
  page.on('response', (res) => {
    const type = res.request().resourceType();
    const own = ['document', 'script', 'stylesheet', 'image', 'font'].includes(type);
    if (own && res.status() >= 400 && !res.url().endsWith('/favicon.ico')) {
      page.problems.push(`${res.status()} ${res.url()}`);
    }
  });
  page.on('pageerror', (err) => page.problems.push(String(err)));
  return page;
}
