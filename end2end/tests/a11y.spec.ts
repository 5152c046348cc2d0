import AxeBuilder from '@axe-core/playwright';
import { type Page } from '@playwright/test';
import { expect, publishNotification, send, test, uid } from './support/hibiki';

// Accessibility: axe-core (WCAG 2.x A and AA rules plus best practices) finds
// no violation on the login and register pages, nor on a room with messages
// and the notification panel open. Every page has a meta description.

async function violations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
  );
}

async function expectDescription(page: Page): Promise<void> {
  await expect(page.locator('meta[name="description"]')).toHaveAttribute('content', /\S/);
}

test('the login and register pages have no axe violations', async ({ page }) => {
  for (const path of ['/login', '/register']) {
    await page.goto(path);
    await expect(page.getByLabel('Username')).toBeVisible();
    await expectDescription(page);
    expect(await violations(page), path).toEqual([]);
  }
});

test('a room with the notification panel open has no axe violations', async ({ users }) => {
  const alice = await users.open('axe');
  await send(alice.page, `axe check ${uid()}`);
  await publishNotification(alice.page.request, {
    to: alice.name,
    kind: 'custom',
    title: `axe ${uid()}`,
    body: 'a notification in the panel',
    url: '/rooms/general',
  });
  const bell = alice.page.getByRole('button', { name: /^Notifications, 1 unread$/ });
  await bell.click();
  await expect(alice.page.getByRole('region', { name: 'Notifications', exact: true })).toBeVisible();
  await expectDescription(alice.page);
  expect(await violations(alice.page)).toEqual([]);
});
