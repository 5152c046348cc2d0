import { createRoom, expect, openRoom, send, test, uid, type User } from './support/hibiki';

// Threads on reply_to: "Reply in thread" or a message's reply count opens
// the thread panel (the message and its replies, live, with a composer
// sending replies to it); the parent's count follows new replies live.

function thread(user: User) {
  const panel = user.page.getByRole('complementary', { name: 'Thread' });
  return {
    panel,
    composer: panel.getByRole('textbox', { name: 'Reply in thread' }),
    items: (text: string) => panel.getByRole('listitem').filter({ hasText: text }),
  };
}

async function openThreadOf(user: User, text: string): Promise<void> {
  const item = user.ui.items(text);
  await item.hover();
  await item.getByRole('button', { name: 'Reply in thread' }).click();
  await expect(thread(user).panel).toBeVisible();
  await expect(thread(user).items(text)).toHaveCount(1);
}

test('the thread panel and the reply count update live for both users', async ({ users }) => {
  const alice = await users.open('aiko');
  const bob = await users.open('ben');
  const room = await createRoom(alice.context, 'thread');
  await openRoom(alice.page, room);
  await openRoom(bob.page, room);

  const parent = `lunch at noon? ${uid()}`;
  await send(alice.page, parent);
  await expect(bob.ui.items(parent)).toHaveCount(1);
  await openThreadOf(alice, parent);
  await openThreadOf(bob, parent);
  await expect(thread(alice).panel).toContainText('0 replies');

  // Bob replies in the thread: Alice's open panel shows it at once, and the
  // parent in her room counts it.
  const first = `yes ${uid()}`;
  await thread(bob).composer.fill(first);
  await thread(bob).composer.press('Enter');
  await expect(thread(bob).composer).toHaveValue('');
  await expect(thread(alice).items(first)).toHaveCount(1);
  await expect(thread(alice).panel).toContainText('1 reply');
  await expect(alice.ui.items(parent).getByRole('button', { name: '1 reply' })).toBeVisible();

  // And back: Alice's reply reaches Bob's panel and count.
  const second = `great ${uid()}`;
  await thread(alice).composer.fill(second);
  await thread(alice).composer.press('Enter');
  await expect(thread(bob).items(second)).toHaveCount(1);
  await expect(thread(bob).panel).toContainText('2 replies');
  await expect(bob.ui.items(parent).getByRole('button', { name: '2 replies' })).toBeVisible();

  // Escape closes the panel; the count opens it again, loaded from the server.
  await thread(bob).composer.press('Escape');
  await expect(thread(bob).panel).toBeHidden();
  await bob.page.reload();
  await expect(bob.ui.status).toContainText('Online', { timeout: 30_000 });
  await bob.ui.items(parent).getByRole('button', { name: '2 replies' }).click();
  await expect(thread(bob).items(first)).toHaveCount(1);
  await expect(thread(bob).items(second)).toHaveCount(1);
});

test('at 360 px the thread panel takes the full width', async ({ users }) => {
  const alice = await users.open('narrow');
  await alice.page.setViewportSize({ width: 360, height: 740 });
  const parent = `small screen ${uid()}`;
  await send(alice.page, parent);
  await openThreadOf(alice, parent);
  const box = await thread(alice).panel.boundingBox();
  expect(box?.width).toBe(360);
  await thread(alice).composer.press('Escape');
  await expect(thread(alice).panel).toBeHidden();
});
