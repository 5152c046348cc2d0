import {
  chat,
  collectPageErrors,
  expect,
  openChat,
  openRoom,
  PASSWORD,
  registerViaApi,
  rooms,
  send,
  test,
  uid,
  userName,
  type User,
} from './support/hibiki';
import type { Page } from '@playwright/test';

// Who may be in a room, and what one sees of rooms one may not enter:
// rooms created live in every sidebar, invitations from a people picker,
// the full member list, leaving rooms, refused room pages, read state across
// tabs, the login's way back, and the drawers and titles on a phone. Two or
// three users in separate browser contexts; web-first assertions only.

/** Creates a room from the sidebar form and waits until it is open and joined. */
async function createRoom(user: User, name: string, isPrivate: boolean): Promise<void> {
  const r = rooms(user.page);
  await r.nav.getByRole('button', { name: 'New room' }).click();
  await user.page.getByLabel('Room name').fill(name);
  if (isPrivate) await user.page.getByLabel('Private (invite only)').check();
  await user.page.getByRole('button', { name: 'Create' }).click();
  await expect(user.page).toHaveURL(new RegExp(`/rooms/${name}$`));
  await expect(user.ui.status).toContainText('Online');
}

/** The members panel's online and offline lists. */
function memberLists(page: Page) {
  const members = rooms(page).members;
  return {
    online: members.getByRole('list', { name: 'Online' }),
    offline: members.getByRole('list', { name: 'Offline' }),
  };
}

/** Invites `name` from the members panel's people picker. */
async function invite(page: Page, name: string): Promise<void> {
  const members = rooms(page).members;
  const toggle = members.getByRole('button', { name: 'Invite people' });
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
  await members.getByLabel('Search people').fill(name);
  await members.getByRole('button', { name: `Invite ${name}`, exact: true }).click();
  await expect(members.getByRole('status')).toHaveText(`Invited ${name}.`);
}

test('a new public room appears live in every sidebar; a private one only for its creator', async ({
  users,
}) => {
  const alice = await users.open('aiko');
  const bob = await users.open('ben');
  const b = rooms(bob.page);
  const open = `open-${uid()}`;
  const secret = `secret-${uid()}`;
  const later = `later-${uid()}`;

  await createRoom(alice, open, false);
  await expect(b.link(open)).toBeVisible();
  await createRoom(alice, secret, true);
  await createRoom(alice, later, false);
  // Announced in order: once the later room is there, the private one
  // would have been too.
  await expect(b.link(later)).toBeVisible();
  await expect(b.link(secret)).toHaveCount(0);
  // The announced room works without a reload.
  await openRoom(bob.page, open);
  await send(bob.page, `hello ${open}`);
  await openRoom(alice.page, open);
  await expect(alice.ui.items(`hello ${open}`)).toHaveCount(1);
});

test('invite from a people picker, see every member, DM an offline one, and leave rooms', async ({
  users,
}) => {
  const alice = await users.open('aiko');
  const bob = await users.open('ben');
  const carol = await users.open('cara');
  const a = rooms(alice.page);
  const b = rooms(bob.page);
  const ops = `ops-${uid()}`;
  await createRoom(alice, ops, true);

  // Alice finds Bob by part of his name; Bob sees the room appear and enters it.
  await invite(alice.page, bob.name);
  await expect(b.link(ops)).toBeVisible();
  await openRoom(bob.page, ops);
  const aliceLists = memberLists(alice.page);
  await expect(aliceLists.online.getByText(bob.name, { exact: true })).toHaveCount(1);
  // Members are not offered again.
  await a.members.getByLabel('Search people').fill(bob.name);
  await expect(a.members.getByRole('button', { name: `Invite ${bob.name}` })).toHaveCount(0);

  // Carol is invited, then goes away: listed offline, and can be messaged.
  await invite(alice.page, carol.name);
  await expect(rooms(carol.page).link(ops)).toBeVisible();
  await expect(aliceLists.online.getByText(carol.name, { exact: true })).toHaveCount(1);
  await carol.context.close();
  await expect(aliceLists.offline.getByText(carol.name, { exact: true })).toHaveCount(1);
  await a.members.getByRole('button', { name: `Message ${carol.name}` }).click();
  await expect(a.title).toHaveText(carol.name);
  await expect(a.dms.getByRole('link', { name: carol.name })).toHaveAttribute(
    'aria-current',
    'page',
  );

  // Bob leaves the private room: gone from his sidebar and Alice's list.
  await openRoom(alice.page, ops);
  await b.members.getByRole('button', { name: 'Leave room' }).click();
  await expect(b.link(ops)).toHaveCount(0);
  await expect(bob.page).not.toHaveURL(new RegExp(`/rooms/${ops}$`));
  await expect(aliceLists.online.getByText(bob.name, { exact: true })).toHaveCount(0);
  await expect(aliceLists.offline.getByText(bob.name, { exact: true })).toHaveCount(0);
  await expect(aliceLists.offline.getByText(carol.name, { exact: true })).toHaveCount(1);
  await bob.page.goto(`/rooms/${ops}`);
  await expect(bob.page.getByRole('heading', { name: 'This room is private' })).toBeVisible();

  // A public room left stays listed as not joined, and opening it joins it again.
  await openRoom(bob.page, 'tech');
  await b.members.getByRole('button', { name: 'Leave room' }).click();
  const other = b.nav.getByRole('group', { name: 'Other rooms' });
  await expect(other.getByRole('link', { name: 'tech' })).toBeVisible();
  await other.getByRole('link', { name: 'tech' }).click();
  await expect(bob.ui.status).toContainText('Online');
  await expect(other).toHaveCount(0);
  await expect(b.link('tech')).toHaveAttribute('aria-current', 'page');
});

test('unknown and private room addresses get a clear page, no sidebar entry and no composer', async ({
  users,
}) => {
  const alice = await users.open('aiko');
  const bob = await users.open('ben');
  const b = rooms(bob.page);
  const hidden = `hidden-${uid()}`;
  await createRoom(alice, hidden, true);

  await bob.page.goto(`/rooms/${hidden}`);
  await expect(bob.page.getByRole('heading', { name: 'This room is private' })).toBeVisible();
  await expect(bob.page.getByText('Ask a member to invite you.')).toBeVisible();
  await expect(bob.ui.status).toContainText('Online');
  await expect(bob.ui.composer).toHaveCount(0);
  await expect(b.link(hidden)).toHaveCount(0);

  const nowhere = `nowhere-${uid()}`;
  await bob.page.goto(`/rooms/${nowhere}`);
  await expect(bob.page.getByRole('heading', { name: 'Room not found' })).toBeVisible();
  await expect(bob.ui.status).toContainText('Online');
  await expect(bob.ui.composer).toHaveCount(0);
  await expect(b.link(nowhere)).toHaveCount(0);
  // The rest of the app is fine.
  await openRoom(bob.page, 'random');
  await send(bob.page, `still here ${uid()}`);
});

test('reading in one tab clears the badge in the others, and reading a DM clears its notification', async ({
  users,
}) => {
  const alice = await users.open('aiko');
  const bob = await users.open('ben');
  const bobTab2 = await bob.context.newPage();
  const tab2Errors = collectPageErrors(bobTab2);
  await openChat(bobTab2);

  const text = `for both tabs ${uid()}`;
  await openRoom(alice.page, 'random');
  await send(alice.page, text);
  await expect(rooms(bob.page).badge('random')).toHaveText('1');
  await expect(rooms(bobTab2).badge('random')).toHaveText('1');
  await openRoom(bob.page, 'random');
  await expect(bob.ui.items(text)).toHaveCount(1);
  await expect(rooms(bobTab2).badge('random')).toHaveCount(0);

  // A DM notifies Bob (he is looking at another room) until he reads it.
  await openRoom(bob.page, 'general');
  await openRoom(alice.page, 'general');
  await rooms(alice.page).members.getByRole('button', { name: `Message ${bob.name}` }).click();
  await expect(alice.ui.status).toContainText('Online');
  await send(alice.page, `psst ${uid()}`);
  const bell = (page: Page) => page.getByRole('button', { name: /^Notifications/ });
  await expect(bell(bob.page)).toHaveAccessibleName('Notifications, 1 unread');
  await expect(bell(bobTab2)).toHaveAccessibleName('Notifications, 1 unread');
  await openRoom(bob.page, alice.name);
  await expect(bell(bob.page)).toHaveAccessibleName('Notifications');
  await expect(bell(bobTab2)).toHaveAccessibleName('Notifications');
  expect(tab2Errors).toEqual([]);
});

test('login returns to the page asked for, and only to a page of this site', async ({
  browser,
}) => {
  const name = userName('back');
  const signup = await browser.newContext();
  await registerViaApi(signup, name);
  await signup.close();

  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = collectPageErrors(page);
  await page.goto('/rooms/random');
  await expect(page).toHaveURL(/\/login\?next=%2Frooms%2Frandom$/);
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/rooms\/random$/);
  await expect(chat(page).status).toContainText('Online');
  await expect(rooms(page).link('random')).toHaveAttribute('aria-current', 'page');

  // Signed in, the login page sends on to `next`, but only on this site.
  await page.goto('/login?next=%2Frooms%2Ftech');
  await expect(page).toHaveURL(/\/rooms\/tech$/);
  for (const evil of ['//evil.example/x', 'http://evil.example/', '/\\evil.example', 'https:evil']) {
    await page.goto(`/login?next=${encodeURIComponent(evil)}`);
    await expect(page).toHaveURL(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  }
  expect(errors).toEqual([]);
  await context.close();

  // And through the form: a foreign `next` lands on the chat.
  const fresh = await browser.newContext();
  const form = await fresh.newPage();
  await form.goto('/login?next=%2F%2Fevil.example');
  await form.getByLabel('Username').fill(name);
  await form.getByLabel('Password').fill(PASSWORD);
  await form.getByRole('button', { name: 'Log in' }).click();
  await expect(chat(form).status).toContainText('Online');
  await expect(form).toHaveURL(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  await fresh.close();
});

test('the new-room form fits the sidebar and Escape closes it', async ({ users }) => {
  const user = await users.open('maker');
  const r = rooms(user.page);
  const toggle = r.nav.getByRole('button', { name: 'New room' });
  await toggle.click();
  const form = user.page.getByRole('form', { name: 'New room' });
  await expect(form).toBeVisible();
  const [nav, box] = [await r.nav.boundingBox(), await form.boundingBox()];
  expect(nav && box, 'both laid out').toBeTruthy();
  if (nav && box) expect(box.x + box.width).toBeLessThanOrEqual(nav.x + nav.width);
  const clipped = await r.nav.evaluate((el) => el.scrollWidth - el.clientWidth);
  expect(clipped).toBeLessThanOrEqual(0);
  await user.page.getByLabel('Room name').press('Escape');
  await expect(form).toBeHidden();
  await expect(toggle).toBeFocused();
  await expect(toggle).toHaveAttribute('aria-expanded', 'false');
});

test('at 360 px titles show the room, drawers close on Escape and outside taps, DMs show the person', async ({
  browser,
  users,
}) => {
  const alice = await users.open('aiko');
  const context = await browser.newContext({ viewport: { width: 360, height: 740 } });
  const bobName = userName('ben');
  await registerViaApi(context, bobName);
  const page = await context.newPage();
  const errors = collectPageErrors(page);
  await openChat(page);
  const r = rooms(page);

  // The title is the room's name, whole.
  await expect(r.title).toHaveText('# general');
  const cut = await r.title.evaluate((el) => el.scrollWidth - el.clientWidth);
  expect(cut).toBeLessThanOrEqual(0);

  // The rooms drawer: Escape closes it, and so does a tap beside it.
  const roomsToggle = page.getByRole('button', { name: 'Rooms menu' });
  await roomsToggle.click();
  await expect(r.nav).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(r.nav).toBeHidden();
  await expect(roomsToggle).toHaveAttribute('aria-expanded', 'false');
  await roomsToggle.click();
  await expect(r.nav).toBeVisible();
  await page.mouse.click(350, 500);
  await expect(r.nav).toBeHidden();

  // The members drawer likewise.
  const membersToggle = page.getByRole('button', { name: 'Members' });
  await membersToggle.click();
  await expect(r.members).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(r.members).toBeHidden();
  await membersToggle.click();
  await expect(r.members).toBeVisible();
  await page.mouse.click(10, 500);
  await expect(r.members).toBeHidden();

  // A DM is titled with the other person's name, not its internal name.
  await membersToggle.click();
  await r.members.getByRole('button', { name: `Message ${alice.name}` }).click();
  await expect(page).toHaveURL(/\/rooms\/dm-\d+-\d+$/);
  await expect(r.title).toHaveText(alice.name);
  expect(errors).toEqual([]);
  await context.close();
});
