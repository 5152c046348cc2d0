import {
  chat,
  collectPageErrors,
  expect,
  interceptSends,
  openChat,
  openRoom,
  registerViaApi,
  rooms,
  send,
  test,
  uid,
  userName,
} from './support/hibiki';

// Rooms, typing, presence, unread counts, read receipts, replies, DMs and
// optimistic sending, with two users in two browser contexts. Role and label
// locators, web-first assertions, no sleeps (the one fixed wait is the
// client's own 5 s send timeout, asserted with a longer expect timeout).

test('chat in a room: typing indicator, links, seen by, presence when a tab closes', async ({
  users,
}) => {
  const alice = await users.open('aiko');
  const bob = await users.open('ben');
  const a = rooms(alice.page);
  const b = rooms(bob.page);
  // Both are online in #general, each listed once.
  await expect(a.members.getByText(bob.name, { exact: true })).toHaveCount(1);
  await expect(b.members.getByText(alice.name, { exact: true })).toHaveCount(1);
  await expect(a.link('general')).toHaveAttribute('aria-current', 'page');

  // Bob types: Alice sees it; sending clears it.
  await bob.ui.composer.pressSequentially('hello', { delay: 20 });
  await expect(a.typing).toHaveText(`${bob.name} is typing…`);
  const text = `look at https://example.com/docs?q=1 now ${uid()}`;
  await bob.ui.composer.fill(text);
  await bob.ui.composer.press('Enter');
  await expect(alice.ui.items(text)).toHaveCount(1);
  await expect(a.typing).toHaveText('');

  // The URL is a safe link; the rest is text.
  const link = alice.ui.items(text).getByRole('link', { name: 'https://example.com/docs?q=1' });
  await expect(link).toHaveAttribute('href', 'https://example.com/docs?q=1');
  await expect(link).toHaveAttribute('target', '_blank');
  await expect(link).toHaveAttribute('rel', 'noopener noreferrer nofollow');

  // Alice has it on screen, so she has read it: Bob sees "Seen by".
  await expect(b.seenBy).toHaveText(`Seen by ${alice.name}`);

  // Typing stops on blur too.
  await alice.ui.composer.pressSequentially('thinking', { delay: 20 });
  await expect(b.typing).toHaveText(`${alice.name} is typing…`);
  await alice.ui.composer.blur();
  await expect(b.typing).toHaveText('');

  // Bob closes his tab: Alice's member list moves him to the offline members.
  await bob.context.close();
  const online = a.members.getByRole('list', { name: 'Online' });
  const offline = a.members.getByRole('list', { name: 'Offline' });
  await expect(online.getByText(bob.name, { exact: true })).toHaveCount(0);
  await expect(offline.getByText(bob.name, { exact: true })).toHaveCount(1);
  await expect(online.getByText(alice.name, { exact: true })).toHaveCount(1);
});

test('an unread count in another room goes live and clears when the room is opened', async ({
  users,
}) => {
  const alice = await users.open('aiko');
  const bob = await users.open('ben');
  const a = rooms(alice.page);
  await openRoom(bob.page, 'random');
  await expect(bob.page).toHaveURL(/\/rooms\/random$/);
  await expect(rooms(bob.page).link('random')).toHaveAttribute('aria-current', 'page');

  const first = `in random ${uid()}`;
  const second = `still random ${uid()}`;
  await send(bob.page, first);
  await expect(a.badge('random')).toHaveText('1');
  await expect(a.badge('random')).toHaveAttribute('aria-label', '1 unread');
  await send(bob.page, second);
  await expect(alice.page.getByLabel('2 unread')).toBeVisible();
  // The room being read shows no badge.
  await expect(a.badge('general')).toHaveCount(0);

  await openRoom(alice.page, 'random');
  await expect(alice.page).toHaveURL(/\/rooms\/random$/);
  await expect(a.title).toHaveText('# random');
  await expect(alice.ui.items(first)).toHaveCount(1);
  await expect(alice.ui.items(second)).toHaveCount(1);
  await expect(a.badge('random')).toHaveCount(0);

  // It stays read after a reload: the server got `chat:read`.
  await alice.page.reload();
  await expect(alice.ui.status).toContainText('Online');
  await expect(a.link('random')).toHaveAttribute('aria-current', 'page');
  await openRoom(alice.page, 'general');
  await expect(a.link('random')).toBeVisible();
  await expect(a.badge('random')).toHaveCount(0);
});

test('reply with a quote, and the quote jumps to the original', async ({ users }) => {
  const alice = await users.open('aiko');
  const bob = await users.open('ben');
  const original = `the original question ${uid()}`;
  await send(alice.page, original);
  // Push the original up with a few more messages.
  for (let i = 0; i < 3; i++) await send(alice.page, `filler ${i} ${uid()}`);

  const target = bob.ui.items(original);
  await target.hover();
  await target.getByRole('button', { name: 'Reply', exact: true }).click();
  const preview = bob.page.getByRole('group', { name: 'Reply' });
  await expect(preview).toContainText(alice.name);
  await expect(preview).toContainText(original);
  await expect(bob.ui.composer).toBeFocused();

  // Cancel and reply again: the preview goes and comes back.
  await preview.getByRole('button', { name: 'Cancel reply' }).click();
  await expect(preview).toHaveCount(0);
  await target.hover();
  await target.getByRole('button', { name: 'Reply', exact: true }).click();

  const answer = `the answer ${uid()}`;
  await bob.ui.composer.fill(answer);
  await bob.ui.composer.press('Enter');
  await expect(preview).toHaveCount(0);

  // Both see the reply with a quote of the original (author + excerpt).
  const reply = alice.ui.items(answer);
  await expect(reply).toHaveCount(1);
  const quote = reply.locator('.msg__quote');
  await expect(quote).toContainText(alice.name);
  await expect(quote).toContainText(original);
  await expect(bob.ui.items(answer).locator('.msg__quote')).toContainText(original);

  // The quote jumps to the original: focused, highlighted, in view.
  await quote.click();
  const originalItem = alice.ui.items(original).first();
  await expect(originalItem).toHaveAttribute('id', /^msg-\d+$/);
  await expect(originalItem).toBeFocused();
  await expect(originalItem).toHaveAttribute('data-highlight', 'true');
  await expect(originalItem).toBeInViewport();
});

test('open a DM from the member list and exchange messages', async ({ users }) => {
  const alice = await users.open('aiko');
  const bob = await users.open('ben');
  const a = rooms(alice.page);
  const b = rooms(bob.page);
  await a.members.getByRole('button', { name: `Message ${bob.name}` }).click();
  await expect(alice.page).toHaveURL(/\/rooms\/[a-z0-9_-]+$/);
  await expect(alice.page).not.toHaveURL(/\/rooms\/general$/);
  await expect(a.title).toHaveText(bob.name);
  await expect(a.dms.getByRole('link', { name: bob.name })).toHaveAttribute('aria-current', 'page');
  await expect(alice.ui.status).toContainText('Online');
  const dmUrl = alice.page.url();

  const hi = `psst ${uid()}`;
  await send(alice.page, hi);

  // Bob gets the DM live in his sidebar, with an unread badge.
  const bobLink = b.dms.getByRole('link').filter({ hasText: alice.name });
  await expect(bobLink).toBeVisible();
  await expect(bobLink.locator('.badge')).toHaveText('1');
  await bobLink.click();
  await expect(bob.page).toHaveURL(dmUrl);
  await expect(bob.ui.items(hi)).toHaveCount(1);
  await expect(bobLink.locator('.badge')).toHaveCount(0);

  const back = `hi back ${uid()}`;
  await send(bob.page, back);
  await expect(alice.ui.items(back)).toHaveCount(1);

  // Opening the DM again lands in the same room.
  await openRoom(alice.page, 'general');
  await a.members.getByRole('button', { name: `Message ${bob.name}` }).click();
  await expect(alice.page).toHaveURL(dmUrl);
  await expect(alice.ui.items(back)).toHaveCount(1);
});

test('a message shows as pending at once, fails after 5 s without ack, and Retry reuses its id', async ({
  browser,
}) => {
  const context = await browser.newContext();
  await registerViaApi(context, userName('flaky'));
  const page = await context.newPage();
  const errors = collectPageErrors(page);
  let dropNextSend = true;
  // Drop the first chat:send, pass everything else.
  const sendIds = await interceptSends(page, () => {
    const drop = dropNextSend;
    dropNextSend = false;
    return drop;
  });
  await openChat(page);
  const ui = chat(page);

  const text = `maybe lost ${uid()}`;
  await ui.composer.fill(text);
  await ui.composer.press('Enter');
  const item = ui.items(text);
  await expect(item).toHaveAttribute('data-state', 'pending');
  await expect(item).toContainText('Sending…');
  await expect(item).toHaveAttribute('data-state', 'failed', { timeout: 8_000 });
  await expect(item).toContainText('Failed');

  await item.getByRole('button', { name: 'Retry' }).click();
  await expect(ui.items(text)).toHaveCount(1);
  await expect(ui.items(text)).not.toHaveAttribute('data-state', /.*/);
  expect(sendIds).toHaveLength(2);
  expect(sendIds[1], 'a retry reuses the request id').toBe(sendIds[0]);
  expect(errors).toEqual([]);
  await context.close();
});

test('create a room from the sidebar', async ({ users }) => {
  const user = await users.open('maker');
  const r = rooms(user.page);
  const name = `proj-${uid()}`;
  await r.nav.getByRole('button', { name: 'New room' }).click();
  await user.page.getByLabel('Room name').fill(name);
  await user.page.getByRole('button', { name: 'Create' }).click();
  await expect(user.page).toHaveURL(new RegExp(`/rooms/${name}$`));
  await expect(r.link(name)).toHaveAttribute('aria-current', 'page');
  await expect(user.ui.status).toContainText('Online');
  await send(user.page, `first in ${name}`);
});

test('at 360 px the sidebar folds behind a toggle and the page does not scroll sideways', async ({
  browser,
}) => {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 } });
  await registerViaApi(context, userName('phone'));
  const page = await context.newPage();
  const errors = collectPageErrors(page);
  await openChat(page);
  const r = rooms(page);
  const toggle = page.getByRole('button', { name: 'Rooms menu' });
  await expect(r.nav).toBeHidden();
  await expect(toggle).toHaveAttribute('aria-expanded', 'false');
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
  await expect(r.nav).toBeVisible();
  await r.link('random').click();
  await expect(page).toHaveURL(/\/rooms\/random$/);
  await expect(r.nav).toBeHidden();
  await expect(chat(page).status).toContainText('Online');
  await send(page, `from a phone ${uid()}`);
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow).toBeLessThanOrEqual(0);
  expect(errors).toEqual([]);
  await context.close();
});
