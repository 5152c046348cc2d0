import {
  chat,
  collectPageErrors,
  expect,
  openChat,
  registerViaApi,
  test,
  uid,
  userName,
} from './support/hibiki';

// End-to-end checks of the chat page (room `general` at `/`), written against
// the UI contract only: role and label locators, web-first assertions, no
// sleeps. Every name and text carries a per-call unique tag, so the tests do
// not depend on each other or on history left by an earlier run.

test('the chat is server-rendered with its history for the signed-in user, hydrates and goes Online', async ({
  browser,
  users,
}) => {
  // 1. Hydration: with JavaScript on, the badge turns Online, which only the
  //    hydrated wasm's WebSocket can do; this user leaves a message behind.
  const user = await users.open('solo');
  const earlier = `said before you came ${uid()}`;
  await expect(user.ui.status).toContainText('Online');
  await user.ui.composer.fill(earlier);
  await user.ui.composer.press('Enter');
  await expect(user.ui.items(earlier)).toHaveCount(1);
  expect(user.errors, 'uncaught errors in the page (hydration or wasm panic)').toEqual([]);
  // Gone before part 2 (the fixture would close it only at the end).
  await user.context.close();

  // 2. Server-side rendering: with JavaScript off, only the server's HTML can
  //    show the chat, for this user, with the latest history on first paint.
  const name = userName('ssr');
  const noJs = await browser.newContext({ javaScriptEnabled: false });
  try {
    await registerViaApi(noJs, name);
    const ssrPage = await noJs.newPage();
    const response = await ssrPage.goto('/');
    expect(response?.status()).toBe(200);
    const ssr = chat(ssrPage);
    await expect(ssr.status).toContainText('Connecting');
    await expect(ssr.signedInAs).toHaveText(name);
    await expect(ssr.composer).toBeVisible();
    await expect(ssr.items(earlier)).toHaveCount(1);
    await expect(ssrPage.locator('body')).toContainText('general');
  } finally {
    await noJs.close();
  }
});

test('two users chat live: Enter sends, Send button sends, no duplicates', async ({ users }) => {
  const alice = await users.open('alice');
  const bob = await users.open('bob');
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
  await expect(bob.ui.items(hello)).toContainText(alice.name);

  // Alice sees her own message exactly once (her ack and the broadcast echo
  // must be deduplicated).
  await expect(alice.ui.items(hello)).toHaveCount(1);
  await expect(alice.ui.items(hello)).toContainText(alice.name);

  // Bob replies with the Send button.
  const reply = `hi alice, bob here ${uid()}`;
  await bob.ui.composer.fill(reply);
  await bob.ui.sendButton.click();
  await expect(bob.ui.composer).toHaveValue('');

  await expect(alice.ui.items(reply)).toHaveCount(1);
  await expect(alice.ui.items(reply)).toContainText(bob.name);
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
});

test('Shift+Enter inserts a line break that is kept in the sent message', async ({ users }) => {
  const { ui } = await users.open('lines');

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
});

test('message text is shown literally, never as HTML', async ({ browser }) => {
  const context = await browser.newContext();
  await registerViaApi(context, userName('mallory'));
  const page = await context.newPage();
  const errors = collectPageErrors(page);
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await openChat(page);
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
  await context.close();
});
