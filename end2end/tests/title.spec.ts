import { createRoom, expect, openRoom, seedMessages, test } from './support/hibiki';

// The browser tab's title names the room and counts the messages waiting
// unread in the reader's other rooms: `(3) #general - Hibiki`.

test('the tab title carries the unread count', async ({ users }) => {
  const bob = await users.open('bob');
  const room = await createRoom(bob.context, 'title');
  const alice = await users.open('alice');
  await expect(alice.page).toHaveTitle('#general - Hibiki');

  await seedMessages(bob.page, room, ['one', 'two', 'three']);
  await expect(alice.page).toHaveTitle('(3) #general - Hibiki');

  // Reading the room clears its share.
  await openRoom(alice.page, room);
  await expect(alice.page).toHaveTitle(`#${room} - Hibiki`);
});
