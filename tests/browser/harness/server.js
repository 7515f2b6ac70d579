// Starts the already-built `portcullis dev` on free loopback ports with a fresh data directory,
// waits until /readyz answers 200, and stops it again.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { binaryPath } from './paths.js';

const START_TIMEOUT_MS = 20_000;

/**
 * @param {object} [options]
 * @param {Record<string,string>} [options.env]  extra PORTCULLIS_* (or other) variables
 * @param {string} [options.config]  TOML written to a file passed with --config
 * @param {string[]} [options.args]  extra arguments after `dev`
 * @returns {Promise<DevServer>}
 */
export async function startServer({ env = {}, config, args = [] } = {}) {
  const bin = binaryPath();
  try {
    await access(bin);
  } catch {
    throw new Error(`${bin} does not exist: build it with \`cargo build --locked --bin portcullis\` (scripts/browser-test does)`);
  }
  const dataDir = await mkdtemp(path.join(tmpdir(), 'portcullis-browser-'));
  const cliArgs = [];
  if (config !== undefined) {
    const file = path.join(dataDir, 'portcullis.toml');
    await writeFile(file, config);
    cliArgs.push('--config', file);
  }
  cliArgs.push('dev', ...args);
  // The suite must not depend on the developer's shell: only PORTCULLIS_LOG passes through.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('PORTCULLIS_') || k === 'PORTCULLIS_LOG'),
  );
  const child = spawn(bin, cliArgs, {
    cwd: dataDir,
    env: {
      ...inherited,
      PORTCULLIS_LISTEN: '127.0.0.1:0',
      PORTCULLIS_METRICS_LISTEN: '127.0.0.1:0',
      PORTCULLIS_DATA_DIR: dataDir,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const server = new DevServer(child, dataDir);
  try {
    await server.ready();
  } catch (error) {
    await server.stop();
    throw new Error(`${error.message}\n--- portcullis output ---\n${server.output()}`);
  }
  return server;
}

export class DevServer {
  constructor(child, dataDir) {
    this.child = child;
    this.dataDir = dataDir;
    /** `http://127.0.0.1:{port}`, once started. */
    this.url = undefined;
    this.metricsUrl = undefined;
    /** The banner's ready-made tokens for dev-admin and dev-member. */
    this.adminToken = undefined;
    this.memberToken = undefined;
    this.chunks = [];
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    for (const stream of [child.stdout, child.stderr]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk) => this.chunks.push(chunk));
    }
  }

  /** Everything the server printed so far (stdout and stderr interleaved). */
  output() {
    return this.chunks.join('');
  }

  /** `{url}{path}`. */
  at(path) {
    return `${this.url}${path}`;
  }

  async ready() {
    const deadline = Date.now() + START_TIMEOUT_MS;
    let early = false;
    this.exited.then(() => { early = true; });
    while (!this.url) {
      if (early) throw new Error('portcullis dev exited before it listened');
      if (Date.now() > deadline) throw new Error('portcullis dev printed no banner in time');
      const text = this.output();
      const api = text.match(/^\s*API\s+(http:\/\/\S+)/m);
      const metrics = text.match(/^\s*metrics\s+(http:\/\/\S+)\/metrics/m);
      const admin = text.match(/^\s*ADMIN_TOKEN=(\S+)/m);
      const member = text.match(/^\s*MEMBER_TOKEN=(\S+)/m);
      if (api && metrics && admin && member) {
        this.url = api[1];
        this.metricsUrl = metrics[1];
        this.adminToken = admin[1];
        this.memberToken = member[1];
        break;
      }
      await sleep(25);
    }
    while (true) {
      if (early) throw new Error('portcullis dev exited before it was ready');
      if (Date.now() > deadline) throw new Error('/readyz did not answer 200 in time');
      try {
        const res = await fetch(this.at('/readyz'));
        if (res.status === 200) return;
      } catch {
        // Not accepting yet.
      }
      await sleep(25);
    }
  }

  /** SIGTERM, then SIGKILL if it has not stopped within 5 s; removes the data directory. */
  async stop() {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
      await this.exited;
      clearTimeout(timer);
    }
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
