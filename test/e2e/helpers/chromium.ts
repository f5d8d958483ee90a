// A real headless Chromium for e2e tests, driven by playwright-core. Uses Debian's
// /usr/bin/chromium (installed by .ci/run) instead of a Playwright-downloaded browser, and
// turns off everything that would reach the network on its own.

import { chromium, type Browser, type LaunchOptions } from 'playwright-core';

export const CHROMIUM_BIN = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Launches headless Chromium. Close it with `browser.close()` in `t.teardown`. */
export async function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_BIN,
    headless: true,
    timeout: 60_000,
    ...options,
    args: [...CHROMIUM_ARGS, ...(options.args ?? [])],
  });
}
