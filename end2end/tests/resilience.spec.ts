import type { Page, WebSocketRoute } from '@playwright/test';
import {
  chat,
  collectPageErrors,
  expect,
  interceptSends,
  openChat,
  registerViaApi,
  test,
  uid,
  userName,
} from './support/hibiki';

// Resilience in the browser (issue 5): the offline outbox, an outbox that
// survives a reload, and reconnecting with a countdown banner plus recovery
// of the messages missed meanwhile. Two users in two browser contexts, role
// and label locators, web-first assertions, no sleeps.
//
// Not here: restarting the server process during a conversation. Playwright's
// webServer cannot restart its server (and a test-only restart route is not
// allowed); tests/restart.spec.ts runs its own server process for that.

/** The banner shown while disconnected ("Reconnecting in N s — Retry now" or "Offline"). */
function banner(page: Page) {
  return page.getByRole('status', { name: 'Connection banner' });
}

/** The outbox entries the page keeps in localStorage (all users of the page). */
async function storedOutbox(page: Page): Promise<string> {
  return page.evaluate(() =>
    Object.keys(localStorage)
      .filter((k) => k.startsWith('hibiki.outbox.v1.'))
      .map((k) => localStorage.getItem(k) ?? '')
      .join(''),
  );
}

/** Types `text` and presses Enter; the composer accepts it (also while offline). */
async function write(page: Page, text: string) {
  const ui = chat(page);
  await ui.composer.fill(text);
  await ui.composer.press('Enter');
  await expect(ui.composer).toHaveValue('');
}

test('offline: messages wait as pending, then arrive once each when back online', async ({
  users,
}) => {
  const alice = await users.open('aiko');
  const bob = await users.open('ben');
  await expect(banner(alice.page)).toHaveCount(0);
  await alice.context.setOffline(true);
  await expect(banner(alice.page)).toHaveText('Offline');
  await expect(alice.ui.status).toContainText('Offline');

  const first = `written offline one ${uid()}`;
  const second = `written offline two ${uid()}`;
  await write(alice.page, first);
  await write(alice.page, second);
  for (const text of [first, second]) {
    const item = alice.ui.items(text);
    await expect(item).toHaveCount(1);
    await expect(item).toHaveAttribute('data-state', 'pending');
    await expect(item).toContainText('Sending…');
  }
  // Kept in localStorage while unsent.
  await expect.poll(() => storedOutbox(alice.page)).toContain(second);
  await expect(bob.ui.items(first)).toHaveCount(0);

  await alice.context.setOffline(false);
  await expect(alice.ui.status).toContainText('Online');
  await expect(banner(alice.page)).toHaveCount(0);
  for (const text of [first, second]) {
    await expect(bob.ui.items(text)).toHaveCount(1);
    await expect(alice.ui.items(text)).toHaveCount(1);
    await expect(alice.ui.items(text)).not.toHaveAttribute('data-state', /.*/);
  }
  // In the order written, and gone from storage once acknowledged.
  const seqOf = async (text: string) =>
    Number(await bob.ui.items(text).getAttribute('data-seq'));
  expect(await seqOf(first)).toBeLessThan(await seqOf(second));
  await expect.poll(() => storedOutbox(alice.page)).toBe('');
  // Still exactly once after a moment of live traffic.
  const after = `after ${uid()}`;
  await write(bob.page, after);
  await expect(alice.ui.items(after)).toHaveCount(1);
  await expect(bob.ui.items(first)).toHaveCount(1);
  await expect(bob.ui.items(second)).toHaveCount(1);
});

test('a message pending in the outbox survives a reload and is delivered once, with its id', async ({
  browser,
  users,
}) => {
  const bob = await users.open('ben');
  const context = await browser.newContext();
  await registerViaApi(context, userName('aiko'));
  const page = await context.newPage();
  const errors = collectPageErrors(page);
  let swallowSends = true;
  // While `swallowSends`, chat:send frames never reach the server (no ack).
  const sendIds = await interceptSends(page, () => swallowSends);
  try {
    await openChat(page);
    const ui = chat(page);
    const text = `survives a reload ${uid()}`;
    await write(page, text);
    await expect(ui.items(text)).toHaveAttribute('data-state', /pending|failed/);
    await expect.poll(() => storedOutbox(page)).toContain(text);
    expect(sendIds).toHaveLength(1);

    swallowSends = false;
    await page.reload();
    await expect(ui.status).toContainText('Online', { timeout: 30_000 });
    await expect(bob.ui.items(text)).toHaveCount(1);
    await expect(ui.items(text)).toHaveCount(1);
    await expect(ui.items(text)).not.toHaveAttribute('data-state', /.*/);
    await expect.poll(() => storedOutbox(page)).toBe('');
    expect(sendIds.length).toBeGreaterThanOrEqual(2);
    expect(new Set(sendIds).size, 'resent with its original request id').toBe(1);
    // Exactly once, also for the sender after another reload.
    await page.reload();
    await expect(ui.status).toContainText('Online', { timeout: 30_000 });
    await expect(ui.items(text)).toHaveCount(1);
    expect(errors).toEqual([]);
  } finally {
    await context.close();
  }
});

test('a dropped connection counts down, Retry now reconnects, and missed messages come back once', async ({
  browser,
  users,
}) => {
  const bob = await users.open('ben');
  const context = await browser.newContext();
  await registerViaApi(context, userName('aiko'));
  const page = await context.newPage();
  const errors = collectPageErrors(page);
  let refuse = false;
  let current: WebSocketRoute | undefined;
  let connections = 0;
  // Connections pass through, unless `refuse`: then they are closed at once
  // (as if the server kept going away).
  await page.routeWebSocket(/\/ws$/, (ws) => {
    connections += 1;
    if (refuse) {
      ws.close({ code: 4000, reason: 'refused by the test' });
      return;
    }
    current = ws;
    ws.connectToServer();
  });
  try {
    await openChat(page);
    const ui = chat(page);
    const before = `before the drop ${uid()}`;
    await write(bob.page, before);
    await expect(ui.items(before)).toHaveCount(1);

    // Drop the connection and keep refusing new ones.
    refuse = true;
    await current?.close({ code: 4000, reason: 'dropped by the test' });
    await expect(ui.status).toContainText(/Offline|Connecting/);
    const missed = [`missed one ${uid()}`, `missed two ${uid()}`];
    for (const text of missed) {
      await write(bob.page, text);
      await expect(bob.ui.items(text)).not.toHaveAttribute('data-state', /.*/);
    }
    // The backoff grows until a countdown of at least 3 s shows; it counts down.
    const b = banner(page);
    const pattern = /^Reconnecting in (\d+) s — Retry now$/;
    await expect(b).toHaveText(/^Reconnecting in ([3-9]|\d\d+) s — Retry now$/, {
      timeout: 30_000,
    });
    const secondsLeft = async () => Number(pattern.exec((await b.textContent()) ?? '')?.[1]);
    const start = await secondsLeft();
    await expect.poll(secondsLeft, { intervals: [100] }).toBeLessThan(start);
    refuse = false;
    const attempts = connections;
    await b.getByRole('button', { name: 'Retry now' }).click();
    await expect(ui.status).toContainText('Online');
    await expect(b).toHaveCount(0);
    expect(connections).toBeGreaterThan(attempts);

    // What was sent meanwhile is there exactly once, in order.
    for (const text of [before, ...missed]) {
      await expect(ui.items(text)).toHaveCount(1);
    }
    const seqs = await ui.log.getByRole('listitem').evaluateAll((items) =>
      items.map((li) => Number(li.getAttribute('data-seq'))).filter((n) => n > 0),
    );
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(new Set(seqs).size).toBe(seqs.length);
    // And live messages flow again.
    const after = `after the drop ${uid()}`;
    await write(bob.page, after);
    await expect(ui.items(after)).toHaveCount(1);
    expect(errors).toEqual([]);
  } finally {
    await context.close();
  }
});
