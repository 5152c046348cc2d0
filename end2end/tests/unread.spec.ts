import { chat, createRoom, expect, seedMessages, test } from './support/hibiki';

// Reading tools: a room with many unread messages opens at the first of
// them, under a "New messages" divider, with "Jump to latest" (and the
// count); and whenever the reader is scrolled away from the bottom, new
// messages raise "Jump to latest" instead of moving the view.

const label = (i: number) => `unread ${String(i).padStart(3, '0')}`;

test('a room opens at the first unread message, with Jump to latest', async ({ users }) => {
  const bob = await users.open('bob');
  const room = await createRoom(bob.context, 'unread');
  await seedMessages(bob.page, room, ['read before', 'also read before']);
  // Alice joins the room (caught up), then goes away.
  const alice = await users.open('alice');
  await alice.page.goto(`/rooms/${room}`);
  const ui = chat(alice.page);
  await expect(ui.status).toContainText('Online');
  await expect(ui.items('also read before')).toHaveCount(1);
  await alice.page.goto('about:blank');

  // 150 messages while she is away: more than the first page of 50.
  await seedMessages(
    bob.page,
    room,
    Array.from({ length: 150 }, (_, i) => label(i + 1)),
  );
  await alice.page.goto(`/rooms/${room}`);
  await expect(ui.status).toContainText('Online');
  const divider = ui.log.getByRole('separator', { name: 'New messages' });
  await expect(divider).toBeInViewport();
  await expect(ui.items(label(1))).toBeInViewport();
  await expect(ui.items(label(150))).not.toBeInViewport();
  // The divider sits right above the first unread message.
  await expect(divider.locator('xpath=../following-sibling::li[1]')).toContainText(label(1));
  const jump = alice.page.getByRole('button', { name: /Jump to latest/ });
  await expect(jump).toContainText('150 new');

  await jump.click();
  await expect(ui.items(label(150))).toBeInViewport();
  await expect(jump).toHaveCount(0);

  // Scrolled away from the bottom, new messages do not move the view.
  await ui.log.evaluate((el) => {
    el.scrollTop = el.scrollHeight / 2;
    el.dispatchEvent(new Event('scroll'));
  });
  await expect(ui.items(label(150))).not.toBeInViewport();
  await seedMessages(bob.page, room, ['fresh one', 'fresh two']);
  await expect(ui.items('fresh two')).toHaveCount(1);
  await expect(jump).toContainText('2 new');
  await expect(ui.items('fresh two')).not.toBeInViewport();
  await jump.click();
  await expect(ui.items('fresh two')).toBeInViewport();
  await expect(jump).toHaveCount(0);
});
