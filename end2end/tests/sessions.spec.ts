import type { Page } from '@playwright/test';
import { PASSWORD, chat, expect, interceptSends, openChat, test, uid } from './support/hibiki';

// Revocable sessions in the browser (issue 11): logging out in one tab
// sends the browser's other tabs to the login page at once and drops the
// messages still waiting to go out; "log out everywhere" from another
// device closes this browser's socket (4002) and it goes to the login page.

/** The outbox entries the page keeps in localStorage (all users of the page). */
async function storedOutbox(page: Page): Promise<string> {
  return page.evaluate(() =>
    Object.keys(localStorage)
      .filter((k) => k.startsWith('hibiki.outbox.v1.'))
      .map((k) => localStorage.getItem(k) ?? '')
      .join(''),
  );
}

test('logging out in one tab sends the other tab to the login page and clears the outbox', async ({
  users,
}) => {
  const aiko = await users.open('aiko');
  // A second tab of the same browser, whose sends never reach the server:
  // its message stays pending, in the outbox and in localStorage.
  const tab = await aiko.context.newPage();
  await interceptSends(tab, () => true);
  await openChat(tab);
  const text = `never sent ${uid()}`;
  const ui = chat(tab);
  await ui.composer.fill(text);
  await ui.composer.press('Enter');
  await expect(ui.items(text)).toHaveAttribute('data-state', /pending|failed/);
  await expect.poll(() => storedOutbox(aiko.page)).toContain(text);

  await aiko.ui.logout.click();
  await expect(aiko.page).toHaveURL(/\/login$/);
  // The other tab follows at once, without any action of its own.
  await expect(tab).toHaveURL(/\/login$/);
  await expect.poll(() => storedOutbox(tab)).toBe('');
  // The session is over on the server too.
  expect((await aiko.context.request.get('/api/auth/me')).status()).toBe(401);
  await tab.goto('/');
  await expect(tab).toHaveURL(/\/login$/);
});

test('logging out everywhere from another device sends this browser to the login page', async ({
  browser,
  users,
}) => {
  const aiko = await users.open('aiko');
  const phone = await browser.newContext();
  try {
    const login = await phone.request.post('/api/auth/login', {
      data: { username: aiko.name, password: PASSWORD },
    });
    expect(login.status()).toBe(200);
    const out = await phone.request.post('/api/auth/logout-all');
    expect(out.status()).toBe(204);
  } finally {
    await phone.close();
  }
  // The server closed this browser's socket with 4002 (session ended): no
  // reconnect, straight to the login page.
  await expect(aiko.page).toHaveURL(/\/login$/);
  expect((await aiko.context.request.get('/api/auth/me')).status()).toBe(401);
});
