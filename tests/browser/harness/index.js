// The browser-test harness: everything a suite imports.
export { startServer, DevServer } from './server.js';
export { launchBrowser, newPage, chromiumPath, VIEWPORT } from './browser.js';
export { screenshot, updatingDocs } from './screenshot.js';
export { signIn } from './signin.js';
export { totp, base32Decode } from './totp.js';
export { api } from './api.js';
export { binaryPath, repoRoot } from './paths.js';
