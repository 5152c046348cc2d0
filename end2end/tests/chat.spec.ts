import { test, expect, type Browser, type Page } from '@playwright/test';

// End-to-end checks of the chat page (room `general` at `/`), written against
// the UI contract only: role and label locators, web-first assertions, no
// sleeps. Every name and text carries a per-call unique tag, so the tests do
// not depend on each other or on history left by an earlier run against a
// reused server (`reuseExistingServer` outside CI).

/** A short tag unique to this call: base36 time plus random. */
function uid(): string {
  return Date.now().toString(36) + Math.random().toString(36).slice(2, 6);
}

/** Guest names are 1 to 32 of [A-Za-z0-9_.-] (docs/protocol.md); this stays well under. */
function guestName(prefix: string): string {
  return `${prefix}-${uid()}`;
}

/** The parts of the chat UI the tests touch, all by role or label. */
function chat(page: Page) {
  const log = page.getByRole('log', { name: 'Messages' });
  return {
    nameInput: page.getByLabel('Your name'),
    joinButton: page.getByRole('button', { name: 'Join chat' }),
    status: page.getByRole('status', { name: 'Connection status' }),
    log,
    composer: page.getByRole('textbox', { name: 'Message' }),
    sendButton: page.getByRole('button', { name: 'Send' }),
    /** The list items of the log whose text contains `text`. */
    items: (text: string) => log.getByRole('listitem').filter({ hasText: text }),
  };
}

/**
 * Collects uncaught page errors. A hydration mismatch or a panic in the wasm
 * shows up here (e.g. `RuntimeError: unreachable`), not as a failed locator.
 */
function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`${err.name}: ${err.message}`));
  return errors;
}

/**
 * Opens `/`, joins as `name` and waits until the WebSocket is open.
 *
 * `goto` resolves on the `load` event, but the wasm is fetched and hydrated
 * asynchronously after that, so a click can land on the server-rendered form
 * before its handlers exist (and be lost, or submit the form natively). The
 * join is therefore retried as one unit until the status element appears;
 * a later attempt never re-joins, because it first checks for the status.
 */
async function join(page: Page, name: string): Promise<void> {
  const ui = chat(page);
  await page.goto('/');
  await expect(async () => {
    if (!(await ui.status.isVisible())) {
      await ui.nameInput.fill(name, { timeout: 2_000 });
      await ui.joinButton.click({ timeout: 2_000 });
    }
    await expect(ui.status).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 30_000 });
  await expect(ui.status).toContainText('Online');
  // Attached, not visible: an empty log can have no height.
  await expect(ui.log).toBeAttached();
  await expect(ui.composer).toBeVisible();
}

/** A fresh browser context (own cookies and storage) with one page, joined as `name`. */
async function openUser(browser: Browser, name: string) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = collectPageErrors(page);
  await join(page, name);
  return { context, page, errors, ui: chat(page) };
}

test('page is server-rendered with the name form, hydrates and goes Online', async ({
  browser,
  page,
}) => {
  // 1. Server-side rendering: with JavaScript off, nothing but the server's
  //    HTML can show the form.
  const noJs = await browser.newContext({ javaScriptEnabled: false });
  try {
    const ssrPage = await noJs.newPage();
    const response = await ssrPage.goto('/');
    expect(response?.status()).toBe(200);
    const ssr = chat(ssrPage);
    await expect(ssr.nameInput).toBeVisible();
    await expect(ssr.joinButton).toBeVisible();
    // The page is the chat of room `general`.
    await expect(ssrPage.locator('body')).toContainText('general');
  } finally {
    await noJs.close();
  }

  // 2. Hydration: with JavaScript on, joining opens the WebSocket, which only
  //    the hydrated wasm can do.
  const errors = collectPageErrors(page);
  await join(page, guestName('solo'));
  expect(errors, 'uncaught errors in the page (hydration or wasm panic)').toEqual([]);
});

test('two users chat live: Enter sends, Send button sends, no duplicates', async ({
  browser,
}) => {
  const aliceName = guestName('alice');
  const bobName = guestName('bob');
  const alice = await openUser(browser, aliceName);
  const bob = await openUser(browser, bobName);
  try {
    // Marks bob's document: if the page reloads or navigates, the mark is gone.
    await bob.page.evaluate(() => {
      (window as unknown as { __hibikiNoReload?: boolean }).__hibikiNoReload = true;
    });

    // Alice sends with Enter.
    const hello = `hello from alice ${uid()}`;
    await alice.ui.composer.click();
    await alice.ui.composer.pressSequentially(hello);
    await alice.ui.composer.press('Enter');
    await expect(alice.ui.composer).toHaveValue('');

    // Bob sees it live, attributed to alice.
    await expect(bob.ui.items(hello)).toHaveCount(1);
    await expect(bob.ui.items(hello)).toContainText(aliceName);

    // Alice sees her own message exactly once (her ack and the broadcast echo
    // must be deduplicated).
    await expect(alice.ui.items(hello)).toHaveCount(1);
    await expect(alice.ui.items(hello)).toContainText(aliceName);

    // Bob replies with the Send button.
    const reply = `hi alice, bob here ${uid()}`;
    await bob.ui.composer.fill(reply);
    await bob.ui.sendButton.click();
    await expect(bob.ui.composer).toHaveValue('');

    await expect(alice.ui.items(reply)).toHaveCount(1);
    await expect(alice.ui.items(reply)).toContainText(bobName);
    await expect(bob.ui.items(reply)).toHaveCount(1);

    // By now every frame about alice's message has reached her page (bob's
    // reply came after it on the same socket): still exactly one copy.
    await expect(alice.ui.items(hello)).toHaveCount(1);

    // Bob never reloaded, and both stayed connected.
    expect(
      await bob.page.evaluate(
        () => (window as unknown as { __hibikiNoReload?: boolean }).__hibikiNoReload === true,
      ),
      'bob’s page was reloaded or navigated',
    ).toBe(true);
    await expect(alice.ui.status).toContainText('Online');
    await expect(bob.ui.status).toContainText('Online');
    expect(alice.errors, 'uncaught errors in alice’s page').toEqual([]);
    expect(bob.errors, 'uncaught errors in bob’s page').toEqual([]);
  } finally {
    await alice.context.close();
    await bob.context.close();
  }
});

test('Shift+Enter inserts a line break that is kept in the sent message', async ({ page }) => {
  const errors = collectPageErrors(page);
  await join(page, guestName('lines'));
  const ui = chat(page);

  const tag = uid();
  const first = `line one ${tag}`;
  const second = `line two ${tag}`;

  await ui.composer.click();
  await ui.composer.pressSequentially(first);
  await ui.composer.press('Shift+Enter');
  // Shift+Enter must not send: the text is still in the composer, with the break.
  await expect(ui.composer).toHaveValue(`${first}\n`);
  await expect(ui.items(first)).toHaveCount(0);
  await ui.composer.pressSequentially(second);
  await expect(ui.composer).toHaveValue(`${first}\n${second}`);
  await ui.composer.press('Enter');
  await expect(ui.composer).toHaveValue('');

  // One list item holds both lines...
  const item = ui.items(first);
  await expect(item).toHaveCount(1);
  await expect(item).toContainText(second);
  // ...and they are rendered on separate lines: innerText reflects layout, so
  // this needs `white-space: pre-wrap` (or a <br>), not collapsed whitespace.
  await expect(item).toContainText(new RegExp(`${first}\\n${second}`), { useInnerText: true });
  expect(errors, 'uncaught errors in the page').toEqual([]);
});

test('message text is shown literally, never as HTML', async ({ page }) => {
  const errors = collectPageErrors(page);
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await join(page, guestName('mallory'));
  const ui = chat(page);

  const payload = `<img src=x onerror=alert(1)> ${uid()}`;
  await ui.composer.fill(payload);
  await ui.composer.press('Enter');

  const item = ui.items(payload);
  await expect(item).toHaveCount(1);
  await expect(item).toContainText(payload);
  // No element was created from the text, so nothing could run.
  await expect(ui.log.locator('img[src="x"]')).toHaveCount(0);
  await expect(item.locator('img')).toHaveCount(0);
  expect(dialogs, 'a dialog was opened by message text').toEqual([]);
  expect(errors, 'uncaught errors in the page').toEqual([]);
});
