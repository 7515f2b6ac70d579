// Where things are: the repository, the built binary, the screenshot folders.
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The `portcullis` binary the suites start: $PORTCULLIS_BIN, else the debug build in the target dir. */
export function binaryPath() {
  if (process.env.PORTCULLIS_BIN) return process.env.PORTCULLIS_BIN;
  const target = process.env.CARGO_TARGET_DIR
    ? path.resolve(repoRoot, process.env.CARGO_TARGET_DIR)
    : path.join(repoRoot, 'target');
  return path.join(target, 'debug', 'portcullis');
}

/** Documentation images: written only when screenshots are being updated on purpose. */
export const docsImagesDir = path.join(repoRoot, 'docs', 'images');

/** Every other run keeps its screenshots here (ignored by git), for looking at a failure. */
export const artifactsDir = path.join(repoRoot, 'tests', 'browser', 'artifacts');
