import { expect, test, uid } from './support/hibiki';

// History beyond the first page: the room opens on the latest 50 messages,
// and scrolling up to the top pages older ones in, in order, without gaps.

test('scrolling up loads older messages', async ({ users }) => {
  const writer = await users.open('writer');
  const tag = uid();
  const text = (i: number) => `history ${tag} ${String(i).padStart(2, '0')}`;
  for (let i = 1; i <= 60; i++) {
    await writer.ui.composer.fill(text(i));
    await writer.ui.composer.press('Enter');
  }
  await expect(writer.ui.items(text(60))).toHaveCount(1);
  await expect(writer.page.locator('[data-state="pending"]')).toHaveCount(0);

  const reader = await users.open('reader');
  // The first page: the latest 50 of this test's messages, not the oldest ones.
  await expect(reader.ui.items(text(60))).toHaveCount(1);
  await expect(reader.ui.items(text(11))).toHaveCount(1);
  await expect(reader.ui.items(text(1))).toHaveCount(0);

  // Scroll to the top until the oldest of this test's messages is in.
  await expect(async () => {
    await reader.ui.log.evaluate((el) => {
      el.scrollTop = 0;
      el.dispatchEvent(new Event('scroll'));
    });
    await expect(reader.ui.items(text(1))).toHaveCount(1, { timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  for (let i = 1; i <= 60; i++) {
    await expect(reader.ui.items(text(i))).toHaveCount(1);
  }
});
