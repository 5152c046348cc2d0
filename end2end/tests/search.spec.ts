import { createRoom, expect, seedMessages, test, uid, type User } from './support/hibiki';

// Searching messages (GET /api/search): the search box at the top of the
// rooms sidebar, the results panel, and a result opening its message: the
// room loads the history back to it, scrolls to it and highlights it.

function search(user: User) {
  const page = user.page;
  const form = page.getByRole('search', { name: 'Search messages' });
  const panel = page.getByRole('region', { name: 'Search results' });
  return {
    box: form.getByRole('searchbox', { name: 'Search messages' }),
    panel,
    results: panel.getByRole('link'),
    status: panel.getByRole('status'),
  };
}

test('a result jumps to an old message, 100+ messages back', async ({ users }) => {
  const alice = await users.open('seek');
  const room = await createRoom(alice.context, 'seek');
  // A word no other test's message has (the test server's store is shared).
  const word = `zebra${uid()}`;
  const texts = Array.from({ length: 150 }, (_, i) =>
    i === 4 ? `the ${word} crossed here` : `filler ${String(i + 1).padStart(3, '0')}`,
  );
  await seedMessages(alice.page, room, texts);

  const s = search(alice);
  await s.box.fill(word.toUpperCase());
  await s.box.press('Enter');
  await expect(s.status).toHaveText('1 message');
  await expect(s.results).toHaveCount(1);
  await expect(s.results).toContainText(`# ${room}`);
  await expect(s.results).toContainText(alice.name);
  // The matched word is marked as a node, in its original case.
  await expect(s.results.locator('mark')).toHaveText(word);

  await s.results.click();
  await expect(alice.page).toHaveURL(new RegExp(`/rooms/${room}#msg-5$`));
  await expect(s.panel).toBeHidden();
  const target = alice.ui.items(`the ${word} crossed here`);
  await expect(target).toBeInViewport({ timeout: 20_000 });
  await expect(target).toBeFocused();
  await expect(target).toHaveAttribute('id', 'msg-5');
  await expect(alice.ui.items('filler 150')).not.toBeInViewport();
});

test('at 360 px the search works by keyboard and the panel takes the width', async ({
  users,
}) => {
  const alice = await users.open('narrow');
  await alice.page.setViewportSize({ width: 360, height: 740 });
  const room = await createRoom(alice.context, 'narrow');
  const word = `quokka${uid()}`;
  await seedMessages(alice.page, room, [`first ${word}`, 'between', `second ${word}`]);

  await alice.page.getByRole('button', { name: 'Rooms menu' }).click();
  const s = search(alice);
  await s.box.fill(word);
  await s.box.press('Enter');
  await expect(s.results).toHaveCount(2);
  // Newest first.
  await expect(s.results.first()).toContainText(`second ${word}`);
  const box = await s.panel.boundingBox();
  expect(box?.width).toBe(360);

  // Arrows move through the results; Escape closes the panel, back in the box.
  await s.box.press('ArrowDown');
  await expect(s.results.first()).toBeFocused();
  await alice.page.keyboard.press('ArrowDown');
  await expect(s.results.nth(1)).toBeFocused();
  await alice.page.keyboard.press('Escape');
  await expect(s.panel).toBeHidden();
  await expect(s.box).toBeFocused();

  // Again, and open the older one with Enter.
  await s.box.press('Enter');
  await expect(s.results).toHaveCount(2);
  await s.box.press('ArrowDown');
  await alice.page.keyboard.press('ArrowDown');
  await alice.page.keyboard.press('Enter');
  await expect(alice.page).toHaveURL(new RegExp(`/rooms/${room}#msg-1$`));
  await expect(s.panel).toBeHidden();
  await expect(alice.ui.items(`first ${word}`)).toBeFocused();
});
