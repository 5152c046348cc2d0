import { chat, createRoom, expect, seedMessages, test } from './support/hibiki';

// Deep links to older messages (`/rooms/tech#msg-5`, what mention and DM
// notifications link to): the page loads the history back to the target,
// scrolls to it and highlights it.

const label = (i: number) => `deep ${String(i).padStart(3, '0')}`;

test('a link to an old message pages back to it and shows it', async ({ users }) => {
  const alice = await users.open('deep');
  const room = await createRoom(alice.context, 'deep');
  await seedMessages(
    alice.page,
    room,
    Array.from({ length: 300 }, (_, i) => label(i + 1)),
  );
  await alice.page.goto(`/rooms/${room}#msg-5`);
  const ui = chat(alice.page);
  const target = ui.items(label(5));
  await expect(target).toBeInViewport({ timeout: 20_000 });
  await expect(target).toBeFocused();
  await expect(target).toHaveAttribute('id', 'msg-5');
  await expect(ui.items(label(300))).not.toBeInViewport();

  // From the page itself (a notification's link): another old message.
  await alice.page.evaluate(() => {
    location.hash = '#msg-2';
  });
  await expect(ui.items(label(2))).toBeInViewport();
  await expect(ui.items(label(2))).toBeFocused();
});
