import { chat, createRoom, expect, seedMessages, test } from './support/hibiki';

// Date separators: the message list shows "Today", "Yesterday", a weekday or
// a date before the first message of each day, in the reader's own days, as
// a heading (screen readers move from day to day).
// The browser's clock is moved forward (`page.clock.setFixedTime`) to see
// today's messages as older ones.

const DAY = 24 * 60 * 60 * 1000;

test('messages are headed by their day', async ({ users }) => {
  const alice = await users.open('days');
  const room = await createRoom(alice.context, 'days');
  await seedMessages(alice.page, room, ['first of the day', 'second of the day']);
  const separators = chat(alice.page).log.getByRole('heading', { level: 2 });

  await alice.page.goto(`/rooms/${room}`);
  await expect(chat(alice.page).items('second of the day')).toHaveCount(1);
  await expect(separators).toHaveCount(1);
  await expect(separators.first()).toHaveText('Today');
  // The separator comes before the messages it heads.
  const first = await chat(alice.page).log.evaluate(
    (el) => el.querySelector('li')?.textContent?.trim(),
  );
  expect(first).toBe('Today');

  const now = Date.now();
  await alice.page.clock.setFixedTime(now + DAY);
  await alice.page.reload();
  await expect(separators).toHaveCount(1);
  await expect(separators.first()).toHaveText('Yesterday');

  await alice.page.clock.setFixedTime(now + 3 * DAY);
  await alice.page.reload();
  const weekday = new Date(now).toLocaleDateString('en-GB', { weekday: 'long' });
  await expect(separators.first()).toHaveText(weekday);

  await alice.page.clock.setFixedTime(now + 30 * DAY);
  await alice.page.reload();
  const date = new Date(now);
  const month = date.toLocaleDateString('en-GB', { month: 'long' });
  await expect(separators.first()).toHaveText(
    new RegExp(`^${weekday}, ${date.getDate()} ${month}( ${date.getFullYear()})?$`),
  );
});
