// Screenshots at 1280x800: into docs/images/ when PORTCULLIS_UPDATE_SCREENSHOTS=1 (the
// documentation's pictures are refreshed on purpose), otherwise into tests/browser/artifacts/.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { artifactsDir, docsImagesDir } from './paths.js';
import { VIEWPORT } from './browser.js';

export function updatingDocs() {
  return process.env.PORTCULLIS_UPDATE_SCREENSHOTS === '1';
}

/** Saves `{name}.png` of the page's viewport and returns the file's path. */
export async function screenshot(page, name) {
  const dir = updatingDocs() ? docsImagesDir : artifactsDir;
  await mkdir(dir, { recursive: true });
  // Chromium cannot capture a page mid-navigation; a click that submitted a form may still be
  // loading its answer.
  await page.waitForLoadState('load');
  await page.setViewportSize(VIEWPORT);
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file, animations: 'disabled', caret: 'hide' });
  return file;
}
