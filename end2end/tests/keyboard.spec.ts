import {
  chat,
  createRoom,
  expect,
  publishNotification,
  seedMessages,
  test,
  uid,
} from './support/hibiki';

// Keyboard and icons: skip links lead to the messages and the composer; the
// message list is one Tab stop (arrow keys move between messages, Tab
// reaches the focused message's controls, then the composer), not one stop
// per message; icons are inline SVG, not emoji or symbol characters that
// render as empty boxes without a font that has them.

const label = (i: number) => `keys ${String(i).padStart(2, '0')} https://example.com/${i}`;

test('skip links, and one Tab stop for the whole message list', async ({ users }) => {
  const alice = await users.open('keys');
  const room = await createRoom(alice.context, 'keys');
  await seedMessages(
    alice.page,
    room,
    Array.from({ length: 40 }, (_, i) => label(i + 1)),
  );
  const page = alice.page;
  await page.goto(`/rooms/${room}`);
  const ui = chat(page);
  await expect(ui.status).toContainText('Online');

  // The skip links come first.
  await page.keyboard.press('Tab');
  const toMessages = page.getByRole('link', { name: 'Skip to messages' });
  await expect(toMessages).toBeFocused();
  await page.keyboard.press('Tab');
  const toComposer = page.getByRole('link', { name: 'Skip to composer' });
  await expect(toComposer).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(ui.composer).toBeFocused();
  await toMessages.focus();
  await page.keyboard.press('Enter');
  await expect(ui.log).toBeFocused();

  // From the list, one Tab reaches the composer (40 messages with a Reply
  // button and a link each would be 80 stops).
  await page.keyboard.press('Tab');
  await expect(ui.composer).toBeFocused();

  // Arrow keys move between messages.
  await ui.log.focus();
  await page.keyboard.press('ArrowUp');
  await expect(ui.items(label(40))).toBeFocused();
  await page.keyboard.press('ArrowUp');
  await expect(ui.items(label(39))).toBeFocused();
  await page.keyboard.press('Home');
  await expect(ui.items(label(1))).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await expect(ui.items(label(2))).toBeFocused();

  // Tab goes through that message's controls, then on to the composer.
  await page.keyboard.press('Tab');
  await expect(ui.items(label(2)).getByRole('link')).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(ui.items(label(2)).getByRole('button', { name: 'Reply', exact: true })).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(ui.items(label(2)).getByRole('button', { name: 'Reply in thread' })).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(ui.composer).toBeFocused();
  // Back into the list: the active message is its Tab stop.
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Shift+Tab');
  await expect(ui.items(label(2))).toBeFocused();
});

test('icons are inline SVG', async ({ users }) => {
  const alice = await users.open('icons');
  await publishNotification(alice.page.request, {
    to: alice.name,
    kind: 'dm',
    title: `icons ${uid()}`,
    body: 'a DM notification',
  });
  const page = alice.page;
  await page.getByRole('button', { name: /^Notifications, 1 unread$/ }).click();
  const panel = page.getByRole('region', { name: 'Notifications', exact: true });
  await expect(panel.locator('.notif__kind svg')).toHaveCount(1);
  // The rooms menu button shows on small screens only; its icon is there anyway.
  await expect(page.locator('.topbar__toggle--rooms svg')).toHaveCount(1);
  await page.getByRole('textbox', { name: 'Message' }).fill(`icons ${uid()}`);
  await page.getByRole('textbox', { name: 'Message' }).press('Enter');
  await expect(chat(page).log.getByRole('button', { name: 'Reply', exact: true }).first().locator('svg')).toHaveCount(1);
  // No pictographs or arrows left as text in the header, the list or the panel.
  const symbols = await page.evaluate(() => {
    const text = ['.topbar', '.messages', '.notif__kind']
      .flatMap((s) => [...document.querySelectorAll(s)])
      .map((el) => el.textContent ?? '')
      .join(' ');
    return text.match(/[\u2190-\u21ff\u2300-\u27bf\u2b00-\u2bff]|\p{Extended_Pictographic}/gu) ?? [];
  });
  expect(symbols).toEqual([]);
});
