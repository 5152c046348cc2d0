import type { Browser } from '@playwright/test';
import { chat, collectPageErrors, expect, test, uid, userName } from './support/hibiki';
import { OwnServer, ownPort } from './support/server';

// A server restart in the middle of a conversation. This spec runs its own
// `hibiki` (not the suite's webServer) so that it can stop and start it, on
// its own port and SQLite file, from the same release build.

const server = new OwnServer('restart', ownPort('HIBIKI_RESTART_PORT', 3300));

async function user(browser: Browser, name: string) {
  const context = await server.signUp(browser, name);
  const page = await context.newPage();
  const errors = collectPageErrors(page);
  await page.goto('/');
  const ui = chat(page);
  await expect(ui.status).toContainText('Online', { timeout: 30_000 });
  return { context, page, ui, errors };
}

test('a server restart mid-conversation: reconnecting, then online, nothing lost or doubled', async ({ browser }) => {
  await server.start();
  try {
    const aiko = await user(browser, userName('aiko'));
    const ben = await user(browser, userName('ben'));

    const before = `before the restart ${uid()}`;
    await aiko.ui.composer.fill(before);
    await aiko.ui.composer.press('Enter');
    await expect(ben.ui.items(before)).toHaveCount(1);

    // SIGTERM: the server closes every socket with 1001 and exits.
    await server.stop();
    // While it is down, each client says it is reconnecting (with a countdown).
    for (const u of [aiko, ben]) {
      await expect(u.ui.status).not.toContainText('Online');
      await expect(u.page.getByRole('status', { name: 'Connection banner' })).toContainText('Reconnecting');
    }

    const restartedAt = Date.now();
    await server.start();
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
    await server.stop();
  }
});
