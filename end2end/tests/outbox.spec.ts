import type { Browser, BrowserContext, Page } from '@playwright/test';
import { chat, collectPageErrors, expect, test, uid, userName } from './support/hibiki';
import { OwnServer, ownPort } from './support/server';

// The outbox is honest: a room's messages go out in the order written, paced
// by the server's `retry_after_ms` (never shown as failed for their rate), from
// the one tab that owns them; Failed and Discard mean the same in every tab.
//
// This spec runs its own `hibiki` with a tight inbound frame limit (the
// suite's server lifts it for speed), on its own port and SQLite file.

const server = new OwnServer('outbox', ownPort('HIBIKI_OUTBOX_PORT', 3310), {
  // 4 frames a second, bursts of 8: 40 quick sends are far over it.
  HIBIKI_FRAMES_PER_SECOND: '4',
  HIBIKI_FRAME_BURST: '8',
});

test.beforeAll(() => server.start());
test.afterAll(() => server.stop());

/** A signed-up user's browser context on this spec's server. */
async function signUp(browser: Browser): Promise<{ name: string; context: BrowserContext }> {
  const name = userName('aiko');
  return { name, context: await server.signUp(browser, name) };
}

/** What one tab's socket carried: its `chat:send` frames and the server's `rate_limited` answers. */
interface Wire {
  sends: { id: string; text: string }[];
  rateLimited: number;
}

/**
 * Opens a tab on `/`, recording its socket's frames; a `chat:send` whose text
 * contains `drop` never reaches the server (so it times out and fails).
 */
async function openTab(context: BrowserContext, drop?: string) {
  const page = await context.newPage();
  const errors = collectPageErrors(page);
  const wire: Wire = { sends: [], rateLimited: 0 };
  await page.routeWebSocket(/\/ws$/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((message) => {
      const frame = JSON.parse(String(message));
      if (frame.type === 'chat:send') {
        wire.sends.push({ id: frame.id, text: frame.payload.text });
        if (drop && String(frame.payload.text).includes(drop)) return;
      }
      server.send(message);
    });
    server.onMessage((message) => {
      const frame = JSON.parse(String(message));
      if (frame.type === 'error' && frame.payload?.code === 'rate_limited') wire.rateLimited += 1;
      ws.send(message);
    });
  });
  await page.goto('/');
  const ui = chat(page);
  await expect(ui.status).toContainText('Online', { timeout: 30_000 });
  return { page, ui, errors, wire };
}

/** The texts of #general's stored messages containing `tag`, oldest first (over HTTP). */
async function stored(page: Page, tag: string): Promise<string[]> {
  const res = await page.request.get('/api/rooms/general/messages?limit=100');
  expect(res.status()).toBe(200);
  const { messages } = (await res.json()) as { messages: { text: string }[] };
  return messages.map((m) => m.text).filter((t) => t.includes(tag));
}

test('40 quick sends under the rate limit arrive in order, exactly once, never failed; a second tab sends none', async ({
  browser,
}) => {
  test.setTimeout(120_000);
  const { context } = await signUp(browser);
  try {
    const first = await openTab(context);
    const tag = uid();
    const texts = Array.from({ length: 40 }, (_, i) => `${tag} message ${String(i + 1).padStart(2, '0')}`);
    for (const text of texts.slice(0, 20)) {
      await first.ui.composer.fill(text);
      await first.ui.composer.press('Enter');
    }
    // A second tab opens while the first is still working through its outbox.
    const second = await openTab(context);
    for (const text of texts.slice(20)) {
      await first.ui.composer.fill(text);
      await first.ui.composer.press('Enter');
    }
    await expect(first.ui.composer).toHaveValue('');

    // Everything arrives, in the order written, once; nothing ever says Failed.
    await expect.poll(() => stored(first.page, tag), { timeout: 60_000 }).toEqual(texts);
    for (const tab of [first, second]) {
      await expect(tab.ui.log.locator('[data-state]')).toHaveCount(0, { timeout: 20_000 });
      await expect(tab.ui.items(tag)).toHaveCount(40);
      expect(tab.errors).toEqual([]);
    }
    // The limit was really hit, and paced: each message went out in order.
    expect(first.wire.rateLimited).toBeGreaterThan(0);
    const order = first.wire.sends.map((s) => s.text);
    expect(order.filter((t, i) => i === 0 || t !== order[i - 1])).toEqual(texts);
    expect(second.wire.sends, 'the second tab sends none of the first tab\'s messages').toEqual([]);
  } finally {
    await context.close();
  }
});

test('Failed and Discard mean the same in every tab: a discarded message is never sent', async ({ browser }) => {
  const { context } = await signUp(browser);
  try {
    const doomed = `doomed ${uid()}`;
    // The first tab's sends of `doomed` are lost on the way: it times out.
    const first = await openTab(context, doomed);
    const second = await openTab(context);
    await first.ui.composer.fill(doomed);
    await first.ui.composer.press('Enter');
    const after = `written after it ${uid()}`;
    await first.ui.composer.fill(after);
    await first.ui.composer.press('Enter');

    // Failed in both tabs (after the 5 s send timeout); the next one goes.
    for (const tab of [first, second]) {
      await expect(tab.ui.items(doomed)).toHaveAttribute('data-state', 'failed', { timeout: 15_000 });
      await expect(tab.ui.items(after)).toHaveCount(1);
      await expect(tab.ui.items(after)).not.toHaveAttribute('data-state', /.*/);
    }

    // Discard in the second tab: gone in both, and after reloads.
    await second.ui.items(doomed).getByRole('button', { name: 'Discard' }).click();
    await expect(second.ui.items(doomed)).toHaveCount(0);
    await expect(first.ui.items(doomed)).toHaveCount(0);
    for (const tab of [first, second]) {
      await tab.page.reload();
      await expect(tab.ui.status).toContainText('Online', { timeout: 30_000 });
      await expect(tab.ui.items(after)).toHaveCount(1);
      await expect(tab.ui.items(doomed)).toHaveCount(0);
    }
    // Sent once (and lost) by its tab, never by the other, never stored.
    expect(first.wire.sends.filter((s) => s.text === doomed)).toHaveLength(1);
    expect(second.wire.sends).toEqual([]);
    expect(await stored(first.page, doomed)).toEqual([]);
    for (const tab of [first, second]) expect(tab.errors).toEqual([]);
  } finally {
    await context.close();
  }
});
