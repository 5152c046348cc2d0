import type { BrowserContext, Locator, Page } from '@playwright/test';
import {
  announce,
  chat,
  expect,
  openRoom,
  publishNotification,
  rooms,
  send,
  test,
  uid,
} from './support/hibiki';

// Notifications in the browser: the header bell and its unread badge, the
// panel (newest first, mark read, mark all read, sound toggle, transport),
// toasts (5 s lifetime, pause on hover, Close), job progress updated in place
// by key, stored notifications delivered at the next login, @mentions from
// another user, the remembered sound setting, and the SSE fallback when no
// WebSocket can connect.
//
// Notifications are published through `POST /api/notifications` with the
// test publisher key (HIBIKI_API_KEY in playwright.config.ts), always to this
// test's own fresh users (never "*": the DB is shared by every spec). Role and
// label locators, web-first assertions; the only fixed waits and timings are
// the toast lifetime ones (tests 1 and 2).

/** The header bell: "Notifications" or "Notifications, N unread". */
function bell(page: Page) {
  return page.getByRole('button', { name: /^Notifications/ });
}

/** The bell's numeric badge (absent when nothing is unread). */
function badge(page: Page) {
  return bell(page).locator('.bell__badge');
}

/** The notifications panel and its parts. */
function panel(page: Page) {
  const region = page.getByRole('region', { name: 'Notifications', exact: true });
  const list = region.getByRole('list', { name: 'Notification list' });
  return {
    region,
    list,
    items: list.getByRole('listitem'),
    /** The list item whose text contains `title`. */
    item: (title: string) => list.getByRole('listitem').filter({ hasText: title }),
    markAllRead: region.getByRole('button', { name: 'Mark all read' }),
    sound: region.getByRole('button', { name: 'Sound', exact: true }),
  };
}

/** The toast stack; `toast(title)` is the toast whose text contains `title`. */
function toasts(page: Page) {
  const region = page.getByRole('region', { name: 'Toasts' });
  return {
    region,
    toast: (title: string) => region.getByRole('status').filter({ hasText: title }),
  };
}

/** The bell's accessible name for `n` unread notifications. */
function unreadName(n: number): RegExp {
  return n === 0 ? /^Notifications$/ : new RegExp(`^Notifications, ${n} unread$`);
}

/**
 * Opens the panel with the bell. A click before hydration does nothing, so
 * click again until the panel shows (only while it is still closed).
 */
async function openPanel(page: Page) {
  const b = bell(page);
  const p = panel(page);
  await expect(async () => {
    if ((await b.getAttribute('aria-expanded')) !== 'true') await b.click();
    await expect(p.region).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 30_000 });
  await expect(b).toHaveAttribute('aria-expanded', 'true');
  return p;
}

/** Moves the mouse to the viewport corner farthest from `toast` (off every toast). */
async function moveMouseAwayFrom(page: Page, toast: Locator) {
  const box = await toast.boundingBox();
  const viewport = page.viewportSize() ?? { width: 1280, height: 720 };
  const cx = box ? box.x + box.width / 2 : viewport.width;
  const cy = box ? box.y + box.height / 2 : viewport.height;
  await page.mouse.move(
    cx > viewport.width / 2 ? 2 : viewport.width - 2,
    cy > viewport.height / 2 ? 2 : viewport.height - 2,
  );
}

/** Counts `createOscillator` calls (one per beep) in `window.__hibikiBeeps`. */
async function countBeeps(context: BrowserContext) {
  await context.addInitScript(() => {
    const w = window as unknown as { __hibikiBeeps: number; AudioContext?: typeof AudioContext };
    w.__hibikiBeeps = 0;
    const Ctx = w.AudioContext;
    if (!Ctx) return;
    const original = Ctx.prototype.createOscillator;
    Ctx.prototype.createOscillator = function (this: AudioContext) {
      w.__hibikiBeeps += 1;
      return original.call(this);
    };
  });
}

function beeps(page: Page): Promise<number> {
  return page.evaluate(() => (window as unknown as { __hibikiBeeps: number }).__hibikiBeeps);
}

/**
 * Makes every WebSocket of the context fail to connect: the page's
 * `WebSocket` becomes a subclass (same prototype chain and constants) that
 * dials ws://127.0.0.1:9/, where nothing listens (error, then close 1006).
 */
async function blockWebSocket(context: BrowserContext) {
  await context.addInitScript(() => {
    const Native = window.WebSocket;
    class Unreachable extends Native {
      constructor(_url: string | URL, protocols?: string | string[]) {
        super('ws://127.0.0.1:9/', protocols);
      }
    }
    window.WebSocket = Unreachable;
  });
}

test('a published notification shows a toast that vanishes after about 5 s', async ({ users }) => {
  const user = await users.open('toasty');
  const { page } = user;
  const t = toasts(page);
  const title = `Build finished ${uid()}`;
  const body = `All 42 checks passed ${uid()}`;
  await publishNotification(page.request, { to: user.name, kind: 'system', title, body });
  const toast = t.toast(title);
  await expect(toast).toBeVisible();
  const shown = Date.now();
  await expect(toast).toContainText(body);
  await expect(toast).toBeHidden({ timeout: 10_000 });
  const lifetime = Date.now() - shown;
  expect(lifetime, 'toast lifetime in ms').toBeGreaterThanOrEqual(3_500);
  expect(lifetime, 'toast lifetime in ms').toBeLessThanOrEqual(8_000);

  // Close removes a toast at once, long before its 5 s are up.
  const second = `Deploy started ${uid()}`;
  await publishNotification(page.request, {
    to: user.name,
    kind: 'custom',
    title: second,
    body: 'closing this one by hand',
  });
  await expect(t.toast(second)).toBeVisible();
  await t.toast(second).getByRole('button', { name: 'Close' }).click();
  await expect(t.toast(second)).toBeHidden({ timeout: 1_500 });
});

test('hovering a toast pauses its timer', async ({ users }) => {
  const user = await users.open('hover');
  const { page } = user;
  const t = toasts(page);
  const title = `Read me slowly ${uid()}`;
  await publishNotification(page.request, {
    to: user.name,
    kind: 'system',
    title,
    body: 'the pointer is on me',
  });
  const toast = t.toast(title);
  await expect(toast).toBeVisible();
  await toast.hover();
  // This wait is the assertion: longer than a toast's 5 s, and while the
  // pointer rests on it nothing may happen.
  await page.waitForTimeout(6_500);
  await expect(toast).toBeVisible();

  // Leaving resumes the timer with the time that was left: not gone at
  // once, gone within a toast's lifetime.
  await moveMouseAwayFrom(page, toast);
  const left = Date.now();
  await expect(toast).toBeHidden({ timeout: 10_000 });
  const rest = Date.now() - left;
  expect(rest, 'ms from leaving the toast to its end').toBeGreaterThanOrEqual(1_000);
  expect(rest, 'ms from leaving the toast to its end').toBeLessThanOrEqual(8_000);
});

test('the badge counts unread notifications and mark-all-read clears it', async ({ users }) => {
  const user = await users.open('badge');
  const { page } = user;
  await expect(bell(page)).toHaveAccessibleName(unreadName(0));
  await expect(badge(page)).toHaveCount(0);

  const tag = uid();
  const titles = [`First ${tag}`, `Second ${tag}`, `Third ${tag}`];
  for (const title of titles) {
    await publishNotification(page.request, {
      to: user.name,
      kind: 'custom',
      title,
      body: `body of ${title}`,
    });
  }
  await expect(bell(page)).toHaveAccessibleName(unreadName(3));
  await expect(badge(page)).toHaveText('3');
  await expect(badge(page)).toHaveAttribute('aria-hidden', 'true');

  // Newest first, all unread.
  const p = await openPanel(page);
  await expect(p.items).toHaveCount(3);
  await expect(p.items).toContainText([...titles].reverse());
  for (let i = 0; i < 3; i++) {
    await expect(p.items.nth(i)).toHaveAttribute('data-unread', 'true');
    await expect(p.items.nth(i)).toHaveAttribute('data-kind', 'custom');
    await expect(p.items.nth(i)).toContainText(`body of ${titles[2 - i]}`);
  }

  // Mark one read.
  const middle = p.item(titles[1]);
  await middle.getByRole('button', { name: 'Mark read' }).click();
  await expect(middle).toHaveAttribute('data-unread', 'false');
  await expect(middle.getByRole('button', { name: 'Mark read' })).toHaveCount(0);
  await expect(bell(page)).toHaveAccessibleName(unreadName(2));
  await expect(badge(page)).toHaveText('2');

  // Mark all read.
  await p.markAllRead.click();
  await expect(bell(page)).toHaveAccessibleName(unreadName(0));
  await expect(badge(page)).toHaveCount(0);
  for (let i = 0; i < 3; i++) {
    await expect(p.items.nth(i)).toHaveAttribute('data-unread', 'false');
  }

  // Escape (with focus in the panel) closes it. Focus the panel itself:
  // "Mark all read" is disabled now and no longer holds the focus.
  await p.region.press('Escape');
  await expect(p.region).toBeHidden();
  await expect(bell(page)).toHaveAttribute('aria-expanded', 'false');

  // Read state is the server's: still read after a reload (the items are
  // loaded again before the bell is trusted).
  await page.reload();
  await expect(user.ui.status).toContainText('Online', { timeout: 30_000 });
  const again = await openPanel(page);
  await expect(again.items).toHaveCount(3);
  for (let i = 0; i < 3; i++) {
    await expect(again.items.nth(i)).toHaveAttribute('data-unread', 'false');
  }
  await expect(bell(page)).toHaveAccessibleName(unreadName(0));
  await expect(badge(page)).toHaveCount(0);
});

test('an announcement shows as a banner on every open page and is stored once', async ({
  users,
}) => {
  // Announcements go to every user; users created by later tests start
  // after it, so it cannot change their counts.
  const alice = await users.open('aiko');
  const bob = await users.open('ben');
  const text = `Maintenance tonight at 22:00 ${uid()}`;
  await announce(alice.page.request, text);

  for (const user of [alice, bob]) {
    const banner = user.page.getByRole('alert', { name: 'Announcement' });
    await expect(banner).toContainText(text);
    // Its icon is inline SVG, not an emoji (an empty box without an emoji font).
    await expect(banner.locator('.announcement__icon svg')).toHaveCount(1);
    expect(await banner.textContent()).not.toMatch(/\p{Extended_Pictographic}/u);
    // Stored as a system notification (the bell counts it)...
    await expect(bell(user.page)).toHaveAccessibleName(unreadName(1));
    const p = await openPanel(user.page);
    await expect(p.items.first()).toHaveAttribute('data-kind', 'system');
    await expect(p.items.first()).toContainText(text);
    // ...but not repeated as a toast under the banner.
    await expect(toasts(user.page).region.getByText(text)).toHaveCount(0);
  }
  await alice.page.getByRole('alert', { name: 'Announcement' })
    .getByRole('button', { name: 'Dismiss' })
    .click();
  await expect(alice.page.getByRole('alert', { name: 'Announcement' })).toHaveCount(0);
  await expect(bob.page.getByRole('alert', { name: 'Announcement' })).toBeVisible();
});

test('stored notifications reach an offline user at next login', async ({ users }) => {
  const tag = uid();
  const titles = [`While you were out ${tag}`, `Also this ${tag}`];
  // Published after sign-up and before any page is open: nobody is
  // connected for this user, so they can only be stored.
  const user = await users.open('away', {
    prepare: async (context, name) => {
      for (const title of titles) {
        await publishNotification(context.request, {
          to: name,
          kind: 'system',
          title,
          body: `stored: ${title}`,
        });
      }
    },
  });
  const { page } = user;
  await expect(bell(page)).toHaveAccessibleName(unreadName(2));
  await expect(badge(page)).toHaveText('2');
  const p = await openPanel(page);
  await expect(p.items).toHaveCount(2);
  await expect(p.items).toContainText([...titles].reverse());
  for (const title of titles) {
    await expect(p.item(title)).toHaveAttribute('data-unread', 'true');
  }
});

test("a job notification's bar fills from 0 to 100", async ({ users }) => {
  const user = await users.open('jobs');
  const { page } = user;
  const key = `job-${uid()}`;
  const title = `Export ${key}`;
  const publish = (progress: number) =>
    publishNotification(page.request, {
      to: user.name,
      kind: 'job',
      title,
      body: `${progress}% done`,
      progress,
      key,
    });

  await publish(0);
  const p = await openPanel(page);
  const item = p.item(title);
  const bar = item.getByRole('progressbar', { name: 'Progress' });
  await expect(item).toHaveAttribute('data-kind', 'job');
  await expect(bar).toHaveAttribute('aria-valuenow', '0');

  await publish(50);
  await expect(bar).toHaveAttribute('aria-valuenow', '50');
  await expect(item).toContainText('50% done');
  // Read it; the next update makes it unread again.
  await item.getByRole('button', { name: 'Mark read' }).click();
  await expect(item).toHaveAttribute('data-unread', 'false');
  await expect(bell(page)).toHaveAccessibleName(unreadName(0));

  await publish(100);
  await expect(bar).toHaveAttribute('aria-valuenow', '100');
  await expect(item).toContainText('100% done');
  // Updated in place: still one item, unread again.
  await expect(p.items).toHaveCount(1);
  await expect(item).toHaveAttribute('data-unread', 'true');
  await expect(bell(page)).toHaveAccessibleName(unreadName(1));

  // The job's toast is updated too (one toast, its timer restarted).
  const toast = toasts(page).toast(title);
  await expect(toast).toHaveCount(1);
  await expect(toast.getByRole('progressbar', { name: 'Progress' })).toHaveAttribute(
    'aria-valuenow',
    '100',
  );
});

test('a mention from another user notifies and clicking it opens the room', async ({ users }) => {
  const alice = await users.open('aiko');
  const bob = await users.open('ben');
  // Alice is in #random, so opening the link is a real move.
  await rooms(alice.page).link('random').click();
  await expect(alice.page).toHaveURL(/\/rooms\/random$/);
  await expect(alice.ui.status).toContainText('Online');

  // Bob, in #general, mentions her.
  const text = `@${alice.name} look at this ${uid()}`;
  await send(bob.page, text);
  const title = `${bob.name} mentioned you in #general`;
  const toast = toasts(alice.page).toast(title);
  await expect(toast).toBeVisible();
  await expect(bell(alice.page)).toHaveAccessibleName(unreadName(1));

  const p = await openPanel(alice.page);
  const item = p.item(title);
  await expect(item).toHaveAttribute('data-kind', 'mention');
  await expect(item).toHaveAttribute('data-unread', 'true');
  await expect(item.getByRole('link', { name: title })).toBeVisible();
  // The whole entry is the link's target, not only its title.
  await item.click();
  await expect(alice.page).toHaveURL(/\/rooms\/general(#.*)?$/);
  await expect(chat(alice.page).status).toContainText('Online');
  // The mention is highlighted in the message, as hers.
  await expect(
    alice.ui.items(text).locator('.mention[data-me="true"]'),
  ).toHaveText(`@${alice.name}`);
  await expect(bell(alice.page)).toHaveAccessibleName(unreadName(0));
  // The panel may close on navigation; the item is read either way.
  const after = await openPanel(alice.page);
  await expect(after.item(title)).toHaveAttribute('data-unread', 'false');
});

test('a DM notifies its recipient unless they are looking at it', async ({ users }) => {
  const alice = await users.open('aiko');
  const bob = await users.open('ben');
  // Bob opens a DM with Alice, who stays in #general (her client has
  // joined the DM too, for its sidebar badge, but is not looking at it).
  await rooms(bob.page).members.getByRole('button', { name: `Message ${alice.name}` }).click();
  await expect(bob.page).not.toHaveURL(/\/rooms\/general$/);
  await expect(bob.ui.status).toContainText('Online');
  const dmPath = new URL(bob.page.url()).pathname;
  const first = `psst ${uid()}`;
  await send(bob.page, first);

  const title = `New message from ${bob.name}`;
  const toast = toasts(alice.page).toast(title);
  await expect(toast).toBeVisible();
  await expect(toast).toContainText(first);
  await expect(bell(alice.page)).toHaveAccessibleName(unreadName(1));

  // The toast's link opens the DM (and reads the notification).
  await toast.getByRole('link', { name: title }).click();
  await expect(alice.page).toHaveURL(new RegExp(`${dmPath}(#.*)?$`));
  await expect(alice.ui.items(first)).toHaveCount(1);
  await expect(bell(alice.page)).toHaveAccessibleName(unreadName(0));

  // While she looks at the DM, a new DM message notifies nobody...
  const second = `still there? ${uid()}`;
  await send(bob.page, second);
  await expect(alice.ui.items(second)).toHaveCount(1);
  // ...which the next notification proves: it is the only unread one.
  await openRoom(bob.page, 'general');
  await send(bob.page, `@${alice.name} see the DM ${uid()}`);
  await expect(toasts(alice.page).toast(`${bob.name} mentioned you in #general`)).toBeVisible();
  await expect(bell(alice.page)).toHaveAccessibleName(unreadName(1));
  await expect(toasts(alice.page).region.getByText(second)).toHaveCount(0);
});

test('sound toggle is remembered and beeps', async ({ users }) => {
  // With sound on: the toggle survives a reload and a notification beeps.
  const loud = await users.open('loud', { prepare: countBeeps });
  const { page } = loud;
  let p = await openPanel(page);
  await expect(p.sound).toHaveAttribute('aria-pressed', 'false');
  await p.sound.click();
  await expect(p.sound).toHaveAttribute('aria-pressed', 'true');
  await expect
    .poll(() => page.evaluate(() => localStorage.getItem('hibiki.sound')))
    .not.toBeNull();

  await page.reload();
  await expect(chat(page).status).toContainText('Online', { timeout: 30_000 });
  p = await openPanel(page);
  await expect(p.sound).toHaveAttribute('aria-pressed', 'true');
  expect(await beeps(page)).toBe(0);

  const title = `Ding ${uid()}`;
  await publishNotification(page.request, { to: loud.name, kind: 'custom', title, body: 'beep' });
  await expect(toasts(page).toast(title)).toBeVisible();
  await expect.poll(() => beeps(page)).toBeGreaterThanOrEqual(1);

  // A second tab of the same browser (the setting is shared): each
  // notification chimes in one tab only, not in every open one.
  const tab = await loud.context.newPage();
  await tab.goto('/');
  await expect(chat(tab).status).toContainText('Online', { timeout: 30_000 });
  const before = [await beeps(page), await beeps(tab)];
  const twice = `Two tabs ${uid()}`;
  await publishNotification(page.request, { to: loud.name, kind: 'custom', title: twice, body: '' });
  // Both tabs show the toast (the chime, if any, comes with it)...
  await expect(toasts(page).toast(twice)).toBeVisible();
  await expect(toasts(tab).toast(twice)).toBeVisible();
  // ...and exactly one of them chimed.
  const chimed = [(await beeps(page)) > before[0], (await beeps(tab)) > before[1]];
  expect(chimed.filter(Boolean), `tabs that chimed: ${chimed}`).toHaveLength(1);

  // Sound off (the default): a notification arrives silently.
  const quiet = await users.open('quiet', { prepare: countBeeps });
  const q = await openPanel(quiet.page);
  await expect(q.sound).toHaveAttribute('aria-pressed', 'false');
  const silent = `Silent ${uid()}`;
  await publishNotification(quiet.page.request, {
    to: quiet.name,
    kind: 'custom',
    title: silent,
    body: 'no beep',
  });
  await expect(toasts(quiet.page).toast(silent)).toBeVisible();
  await expect(q.item(silent)).toBeVisible();
  expect(await beeps(quiet.page)).toBe(0);
});

test('without a WebSocket the panel works over SSE', async ({ users }) => {
  // The chat never goes Online without its WebSocket: only load the page.
  const user = await users.open('sse', { prepare: blockWebSocket, online: false });
  const { page } = user;
  let p = await openPanel(page);
  await expect(p.region).toHaveAttribute('data-transport', 'sse', { timeout: 30_000 });
  await expect(p.region).toContainText('Live over SSE');
  await expect(p.items).toHaveCount(0);
  await expect(p.region).toContainText('No notifications yet');

  const tag = uid();
  const titles = [`Over SSE one ${tag}`, `Over SSE two ${tag}`];
  for (const title of titles) {
    await publishNotification(page.request, {
      to: user.name,
      kind: 'system',
      title,
      body: `via event stream: ${title}`,
    });
  }
  for (const title of titles) {
    await expect(toasts(page).toast(title)).toBeVisible();
    await expect(p.item(title)).toHaveAttribute('data-unread', 'true');
  }
  await expect(bell(page)).toHaveAccessibleName(unreadName(2));

  // Marked read over HTTP: cleared, and still cleared after a reload.
  await p.markAllRead.click();
  await expect(bell(page)).toHaveAccessibleName(unreadName(0));
  await expect(badge(page)).toHaveCount(0);

  await page.reload();
  p = await openPanel(page);
  await expect(p.region).toHaveAttribute('data-transport', 'sse', { timeout: 30_000 });
  await expect(p.items).toHaveCount(2);
  for (const title of titles) {
    await expect(p.item(title)).toHaveAttribute('data-unread', 'false');
  }
  await expect(bell(page)).toHaveAccessibleName(unreadName(0));
});
