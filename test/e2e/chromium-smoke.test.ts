// Checks the e2e harness itself: the system Chromium starts under playwright-core and
// renders a page served from 127.0.0.1.

import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { launchChromium } from './helpers/chromium.js';

t.test('chromium loads a local page and runs its script', async (t) => {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(
      '<!doctype html><title>smoke</title><p id="out">static</p>' +
        '<script>document.getElementById("out").textContent = "scripted";</script>',
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;

  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${port}/`, { timeout: 30_000 });
  t.equal(await page.title(), 'smoke');
  t.equal(await page.textContent('#out'), 'scripted');
});
