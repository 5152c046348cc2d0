import type { Browser } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { PASSWORD, chat, collectPageErrors, expect, test, uid, userName } from './support/hibiki';

// A server restart in the middle of a conversation. This spec runs its own
// `hibiki` (not the suite's webServer) so that it can stop and start it, on
// its own port and SQLite file, from the same release build.

const PORT = Number(process.env.HIBIKI_RESTART_PORT ?? 3300);
const BASE = `http://127.0.0.1:${PORT}`;
const DB = `sqlite://${path.join(os.tmpdir(), `hibiki-restart-${process.pid}-${Date.now()}.db`)}`;

function startServer(): ChildProcess {
  return spawn('./target/release/hibiki', [], {
    cwd: path.join(__dirname, '..', '..'),
    env: {
      ...process.env,
      LEPTOS_SITE_ADDR: `127.0.0.1:${PORT}`,
      LEPTOS_SITE_ROOT: 'target/site',
      HIBIKI_DATABASE_URL: DB,
      HIBIKI_SHUTDOWN_GRACE_S: '2',
      HIBIKI_LOGIN_PER_IP_PER_MIN: '10000',
      RUST_LOG: 'warn',
    },
    stdio: 'ignore',
  });
}

async function waitHealthy(): Promise<void> {
  await expect
    .poll(async () => (await fetch(`${BASE}/health`).catch(() => null))?.status ?? 0, { timeout: 30_000 })
    .toBe(200);
}

function stopped(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

async function user(browser: Browser, name: string) {
  const context = await browser.newContext({ baseURL: BASE });
  const res = await context.request.post('/api/auth/register', { data: { username: name, password: PASSWORD } });
  expect(res.status()).toBe(201);
  const page = await context.newPage();
  const errors = collectPageErrors(page);
  await page.goto('/');
  const ui = chat(page);
  await expect(ui.status).toContainText('Online', { timeout: 30_000 });
  return { context, page, ui, errors };
}

test('a server restart mid-conversation: reconnecting, then online, nothing lost or doubled', async ({ browser }) => {
  let server = startServer();
  try {
    await waitHealthy();
    const aiko = await user(browser, userName('aiko'));
    const ben = await user(browser, userName('ben'));

    const before = `before the restart ${uid()}`;
    await aiko.ui.composer.fill(before);
    await aiko.ui.composer.press('Enter');
    await expect(ben.ui.items(before)).toHaveCount(1);

    // SIGTERM: the server closes every socket with 1001 and exits.
    server.kill('SIGTERM');
    await stopped(server);
    // While it is down, each client says it is reconnecting (with a countdown).
    for (const u of [aiko, ben]) {
      await expect(u.ui.status).not.toContainText('Online');
      await expect(u.page.getByRole('status', { name: 'Connection banner' })).toContainText('Reconnecting');
    }

    const restartedAt = Date.now();
    server = startServer();
    await waitHealthy();
    for (const u of [aiko, ben]) {
      await expect(u.ui.status).toContainText('Online', { timeout: 30_000 });
      await expect(u.page.getByRole('status', { name: 'Connection banner' })).not.toBeVisible();
    }
    const ms = Date.now() - restartedAt;
    test.info().annotations.push({ type: 'restart-to-online-ms', description: String(ms) });
    console.log(`server restart to all clients online: ${ms} ms`);

    // The conversation goes on, and nothing was lost or doubled.
    const after = `after the restart ${uid()}`;
    await ben.ui.composer.fill(after);
    await ben.ui.composer.press('Enter');
    await expect(aiko.ui.items(after)).toHaveCount(1);
    for (const u of [aiko, ben]) {
      await expect(u.ui.items(before)).toHaveCount(1);
      await expect(u.ui.items(after)).toHaveCount(1);
      expect(u.errors, 'uncaught errors in the page').toEqual([]);
    }
    await aiko.context.close();
    await ben.context.close();
  } finally {
    server.kill('SIGTERM');
    await stopped(server);
  }
});
