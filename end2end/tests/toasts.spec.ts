import type { Locator } from '@playwright/test';
import { expect, publishNotification, test, uid } from './support/hibiki';

// Toasts never cover the composer's Send button, on a desktop and at 360 px.

type Box = { x: number; y: number; width: number; height: number };

function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

async function box(locator: Locator): Promise<Box> {
  const b = await locator.boundingBox();
  expect(b, 'laid out').not.toBeNull();
  return b!;
}

for (const viewport of [
  { width: 1280, height: 800 },
  { width: 360, height: 740 },
]) {
  test(`toasts keep clear of the Send button at ${viewport.width} px`, async ({ users }) => {
    const aiko = await users.open('aiko');
    await aiko.page.setViewportSize(viewport);
    const toasts = aiko.page.getByRole('region', { name: 'Toasts' }).locator('.toast');
    // A stack of three, as a busy minute brings.
    for (let i = 1; i <= 3; i++) {
      await publishNotification(aiko.page.request, {
        to: aiko.name,
        kind: 'system',
        title: `Heads-up ${i} ${uid()}`,
        body: 'A toast with a body long enough to wrap onto a second line on a phone.',
      });
    }
    await expect(toasts).toHaveCount(3);
    const send = await box(aiko.ui.sendButton);
    const composer = await box(aiko.ui.composer);
    for (const toast of await toasts.all()) {
      const b = await box(toast);
      expect(overlaps(b, send), 'a toast covers Send').toBe(false);
      expect(overlaps(b, composer), 'a toast covers the composer').toBe(false);
    }
    // Send still takes the click (nothing on top of it).
    await aiko.ui.composer.fill(`still clickable ${uid()}`);
    await aiko.ui.sendButton.click({ trial: true, timeout: 2_000 });
  });
}
