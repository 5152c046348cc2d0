import type { BrowserContext, Page } from '@playwright/test';
import { createRoom, expect, openRoom, rooms, send, test, uid } from './support/hibiki';

// Attention outside the tab: a room's notification level (all, mentions
// only, muted), kept on the server and honoured by the sidebar's badges; and
// desktop notifications for DMs and mentions while the tab is hidden.
//
// Headless chromium never hides a page, so the desktop test makes `document
// .hidden` answer what the test says and records each `new Notification`
// (still calling the browser's own constructor) before the page loads.

/** The room's notification level control in the members panel. */
function levelSelect(page: Page) {
  return rooms(page).members.getByLabel('Notifications for this room');
}

/** Lets the test hide the page, and records the desktop notifications shown. */
async function spyOnAttention(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const w = window as unknown as {
      __hidden: boolean;
      __shown: { title: string; body: string }[];
      Notification: typeof Notification;
    };
    w.__hidden = false;
    w.__shown = [];
    Object.defineProperty(Document.prototype, 'hidden', {
      configurable: true,
      get: () => w.__hidden,
    });
    Object.defineProperty(Document.prototype, 'visibilityState', {
      configurable: true,
      get: () => (w.__hidden ? 'hidden' : 'visible'),
    });
    const Real = w.Notification;
    class Recorded extends Real {
      constructor(title: string, options?: NotificationOptions) {
        super(title, options);
        w.__shown.push({ title, body: options?.body ?? '' });
      }
    }
    w.Notification = Recorded;
  });
}

async function setHidden(page: Page, hidden: boolean): Promise<void> {
  await page.evaluate((h) => {
    (window as unknown as { __hidden: boolean }).__hidden = h;
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

async function shown(page: Page): Promise<{ title: string; body: string }[]> {
  return page.evaluate(() => (window as unknown as { __shown: { title: string; body: string }[] }).__shown);
}

test('a muted room shows no badge, "mentions only" counts mentions, and the level survives a reload', async ({
  users,
}) => {
  const alice = await users.open('aiko');
  const bob = await users.open('ben');
  const b = rooms(bob.page);
  const quiet = await createRoom(alice.context, 'quiet');
  await expect(b.link(quiet)).toBeVisible();

  // Bob mutes the room from its members panel, then looks elsewhere.
  await openRoom(bob.page, quiet);
  await expect(levelSelect(bob.page)).toHaveValue('all');
  await levelSelect(bob.page).selectOption('mute');
  await expect(b.link(quiet)).toContainText('(muted)');
  await openRoom(bob.page, 'general');

  await openRoom(alice.page, quiet);
  await send(alice.page, `unheard ${uid()}`);
  await openRoom(alice.page, 'random');
  await send(alice.page, `heard ${uid()}`);
  // Delivered in that order: once random's badge is up, quiet's would be.
  await expect(b.badge('random')).toHaveText('1');
  await expect(b.badge(quiet)).toHaveCount(0);

  // Kept on the server: after a reload the room is still muted.
  await bob.page.reload();
  await expect(bob.ui.status).toContainText('Online');
  await expect(b.link(quiet)).toContainText('(muted)');
  await expect(b.badge(quiet)).toHaveCount(0);

  // Mentions only: plain messages add nothing, a mention of Bob counts.
  await openRoom(bob.page, quiet);
  await expect(levelSelect(bob.page)).toHaveValue('mute');
  await levelSelect(bob.page).selectOption('mentions');
  await expect(b.link(quiet)).not.toContainText('(muted)');
  await openRoom(bob.page, 'general');
  await openRoom(alice.page, quiet);
  await send(alice.page, `still quiet ${uid()}`);
  await openRoom(alice.page, 'random');
  await send(alice.page, `heard again ${uid()}`);
  await expect(b.badge('random')).toHaveText('2');
  await expect(b.badge(quiet)).toHaveCount(0);
  await openRoom(alice.page, quiet);
  await send(alice.page, `@${bob.name} a question ${uid()}`);
  await expect(b.badge(quiet)).toHaveText('1');
});

test('a DM shows a desktop notification while the tab is hidden, and only then', async ({ users }) => {
  const alice = await users.open('aiko');
  const bob = await users.open('ben', {
    prepare: async (context) => {
      await context.grantPermissions(['notifications']);
      await spyOnAttention(context);
    },
  });
  const carol = await users.open('cara');

  // Bob allowed them (the test granted the permission): the panel says so.
  // Carol has not been asked: the panel offers to ask, and says why.
  const bell = (page: Page) => page.getByRole('button', { name: /^Notifications/ });
  const panel = (page: Page) => page.getByRole('region', { name: 'Notifications', exact: true });
  await bell(bob.page).click();
  await expect(panel(bob.page)).toContainText('Desktop notifications are on');
  await bell(bob.page).click();
  await bell(carol.page).click();
  await expect(panel(carol.page).getByRole('button', { name: 'Enable desktop notifications' })).toBeVisible();

  // Bob's tab goes to the background; Alice writes to him.
  await setHidden(bob.page, true);
  await openRoom(alice.page, 'general');
  await rooms(alice.page).members.getByRole('button', { name: `Message ${bob.name}` }).click();
  await expect(alice.ui.status).toContainText('Online');
  const first = `are you there? ${uid()}`;
  await send(alice.page, first);
  await expect.poll(() => shown(bob.page)).toEqual([{ title: `New message from ${alice.name}`, body: first }]);

  // Back in front: the next DM is a toast in the page, not on the desktop.
  await setHidden(bob.page, false);
  const second = `still there? ${uid()}`;
  await send(alice.page, second);
  await expect(bob.page.getByRole('region', { name: 'Toasts' }).getByRole('status').filter({ hasText: second })).toBeVisible();
  expect(await shown(bob.page)).toHaveLength(1);
});
