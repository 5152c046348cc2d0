import {
  PASSWORD,
  authForm,
  chat,
  collectPageErrors,
  holdWasm,
  expect,
  openRoom,
  test,
  uid,
  type User,
} from './support/hibiki';

// The composer keeps what is typed: a draft per room (across room switches,
// reloads; cleared by sending and at logout), text typed before the app is
// live, and plain-language notices with a character counter near the limit.

/** A fresh public room, created through the API by `user`'s context before the page opens. */
async function createRoom(user: { context: User['context'] }, name: string): Promise<void> {
  const res = await user.context.request.post('/api/rooms', { data: { name, private: false } });
  expect(res.status(), await res.text()).toBe(201);
}

test('a draft per room: kept across room switches and reloads, cleared when sent and at logout', async ({
  users,
}) => {
  const room = `drafts-${uid()}`;
  const aiko = await users.open('aiko', { prepare: (context) => createRoom({ context }, room) });
  const { page, ui } = aiko;
  const general = `half a thought for general ${uid()}\nsecond line`;
  const other = `and one for the other room ${uid()}`;

  await ui.composer.fill(general);
  await openRoom(page, room);
  await expect(ui.composer).toHaveValue('');
  await ui.composer.fill(other);
  await openRoom(page, 'general');
  await expect(ui.composer).toHaveValue(general);

  // A reload keeps both.
  await page.reload();
  await expect(ui.status).toContainText('Online');
  await expect(ui.composer).toHaveValue(general);
  await openRoom(page, room);
  await expect(ui.composer).toHaveValue(other);

  // Sending clears the room's draft, also after a reload; the other stays.
  await ui.composer.press('Enter');
  await expect(ui.items(other)).toHaveCount(1);
  await expect(ui.composer).toHaveValue('');
  await page.reload();
  await expect(ui.status).toContainText('Online');
  await expect(ui.composer).toHaveValue('');
  await openRoom(page, 'general');
  await expect(ui.composer).toHaveValue(general);

  // Logging out forgets the drafts (the next person on this browser sees none).
  await ui.logout.click();
  await expect(page).toHaveURL(/\/login$/);
  expect(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('hibiki.drafts')))).toEqual([]);
  const form = authForm(page);
  await form.username.fill(aiko.name);
  await form.password.fill(PASSWORD);
  await form.login.click();
  await expect(ui.status).toContainText('Online');
  await expect(ui.composer).toHaveValue('');
});

test('errors in plain words: a counter near the limit, a notice that clears when the text fits', async ({
  users,
}) => {
  const { page, ui } = await users.open('aiko');
  const counter = page.locator('.composer__counter');
  const notice = page.locator('.composer__notice');
  const tag = uid();
  const text = (n: number) => `${tag} `.padEnd(n, 'x');

  await ui.composer.fill(text(3_599));
  await expect(counter).toHaveCount(0);
  await ui.composer.fill(text(3_600));
  await expect(counter).toHaveText('400 characters left');

  await ui.composer.fill(text(4_012));
  await expect(counter).toHaveText('12 too many');
  await ui.composer.press('Enter');
  await expect(notice).toHaveText(
    'This message is 12 characters too long. Messages can have up to 4000 characters.',
  );
  await expect(page.getByText('must be at most')).toHaveCount(0);
  await expect(ui.composer).toHaveValue(text(4_012));

  // Shortening it clears the notice; then it sends.
  await ui.composer.fill(text(3_990));
  await expect(notice).toHaveCount(0);
  await expect(counter).toHaveText('10 characters left');
  await ui.composer.press('Enter');
  await expect(ui.composer).toHaveValue('');
  await expect(counter).toHaveCount(0);
  await expect(ui.items(tag)).toHaveCount(1);
  await expect(ui.items(tag)).not.toHaveAttribute('data-state', /.*/);
});

test('text typed before the app is live survives into the live composer and sends', async ({
  users,
}) => {
  const aiko = await users.open('aiko');
  // A second tab of the same user, on a link so slow the app is not live yet.
  const page = await aiko.context.newPage();
  const errors = collectPageErrors(page);
  const release = await holdWasm(page);
  await page.goto('/', { waitUntil: 'domcontentloaded' });
  const ui = chat(page);
  await expect(ui.status).toContainText('Connecting');
  // Typing works at once; Enter adds a line; Send cannot lose the text.
  const first = `typed while loading ${uid()}`;
  const second = `and after Enter ${uid()}`;
  await ui.composer.pressSequentially(first);
  await ui.composer.press('Enter');
  await ui.composer.pressSequentially(second);
  await expect(ui.composer).toHaveValue(`${first}\n${second}`);
  await expect(ui.sendButton).toBeDisabled();

  release();
  await expect(ui.status).toContainText('Online', { timeout: 30_000 });
  await expect(ui.sendButton).toBeEnabled();
  await expect(ui.composer).toHaveValue(`${first}\n${second}`);
  await ui.composer.press('Enter');
  await expect(ui.composer).toHaveValue('');
  const item = ui.items(first);
  await expect(item).toHaveCount(1);
  await expect(item).toContainText(second);
  await expect(item).not.toHaveAttribute('data-state', /.*/);
  await expect(aiko.ui.items(first)).toHaveCount(1);
  expect(errors, 'page errors of the slow tab').toEqual([]);
});
