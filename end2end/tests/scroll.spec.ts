import { chat, createRoom, expect, seedMessages, test } from './support/hibiki';

// Scroll-back keeps its place: in a room of 300 messages, each time the
// reader reaches the top the next older page is prepended and the message
// that was at the top stays exactly where it was on screen; paging goes on
// to the room's first message, where "Beginning of #room" shows.

const COUNT = 300;
const label = (i: number) => `scroll ${String(i).padStart(3, '0')}`;

test('older pages are prepended without moving the view, down to the first message', async ({
  users,
}) => {
  const alice = await users.open('scroll');
  const room = await createRoom(alice.context, 'scroll');
  await seedMessages(
    alice.page,
    room,
    Array.from({ length: COUNT }, (_, i) => label(i + 1)),
  );
  await alice.page.goto(`/rooms/${room}`);
  const { log, status, items } = chat(alice.page);
  await expect(status).toContainText('Online');
  await expect(items(label(COUNT))).toBeInViewport();
  const messages = log.locator('li[data-seq]');

  for (let round = 0; round < 20; round++) {
    // Scroll to the top; note the first message and where it is on screen.
    const before = await log.evaluate((el) => {
      el.scrollTop = 0;
      const first = el.querySelector('li[data-seq]') as HTMLElement;
      el.dispatchEvent(new Event('scroll'));
      return { seq: first.dataset.seq ?? '', top: first.getBoundingClientRect().top };
    });
    if (before.seq === '1') break;
    // An older page arrives above it...
    await expect(messages.first()).not.toHaveAttribute('data-seq', before.seq);
    // ...and the message that was at the top has not moved.
    await expect
      .poll(() =>
        log.evaluate(
          (_, seq) =>
            document.getElementById(`msg-${seq}`)?.getBoundingClientRect().top ?? Number.NaN,
          before.seq,
        ),
      )
      .toBeCloseTo(before.top, 0);
  }

  await expect(messages.first()).toHaveAttribute('data-seq', '1');
  await expect(messages).toHaveCount(COUNT);
  await expect(log.getByText(`Beginning of #${room}`)).toBeVisible();
  await expect(log.getByRole('button', { name: 'Load older messages' })).toHaveCount(0);
});
