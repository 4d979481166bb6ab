#!/usr/bin/env node
// `npm test` runs a browser test on Debian's Chromium (playwright-core never downloads a browser of its own).
// On a fresh machine it is missing: install it with apt-get when we may (root), otherwise say how, and fail.
const { existsSync } = require('node:fs');
const { execFileSync } = require('node:child_process');

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
if (existsSync(CHROMIUM)) process.exit(0);

const canInstall = typeof process.getuid === 'function' && process.getuid() === 0 && existsSync('/usr/bin/apt-get');
if (!canInstall) {
  process.stderr.write(
    `Chromium not found at ${CHROMIUM}: run "sudo apt-get install -y chromium" (the browser test needs it)\n`,
  );
  process.exit(1);
}
process.stderr.write('installing chromium for the browser test (apt-get, once)…\n');
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
try {
  execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: ['ignore', 'ignore', 'inherit'], env });
} catch {
  // The package lists of a fresh machine may be empty or stale.
  execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: ['ignore', 'ignore', 'inherit'], env });
}
if (!existsSync(CHROMIUM)) {
  process.stderr.write(`apt-get finished but ${CHROMIUM} is still missing\n`);
  process.exit(1);
}
