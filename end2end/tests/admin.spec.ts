import { chat, collectPageErrors, expect, test, uid, userName } from './support/hibiki';
import { OwnServer, ownPort } from './support/server';

// The admin dashboard (issue 13, operations): live numbers that change when
// another browser connects, the announcement form, signing a user out
// everywhere; and a plain user is refused. Its own server, so that the first
// account (an admin) is this spec's.

const server = new OwnServer('admin', ownPort('HIBIKI_ADMIN_PORT', 3320));

test.beforeAll(() => server.start());
test.afterAll(() => server.stop());

test('the dashboard is live, announces, and signs a user out everywhere', async ({ browser }) => {
  const root = await server.signUp(browser, userName('root')); // the first account: admin
  const admin = await root.newPage();
  const adminErrors = collectPageErrors(admin);
  await admin.goto('/');
  await admin.getByRole('link', { name: 'Dashboard' }).click();
  await expect(admin).toHaveURL(/\/admin$/);
  await expect(admin.getByRole('heading', { name: 'Dashboard', level: 1 })).toBeVisible();
  await expect(admin.getByRole('status').filter({ hasText: 'Live' })).toBeVisible();

  const nodes = admin.getByRole('table', { name: 'Nodes' });
  const connections = nodes.getByRole('row').nth(1).getByRole('cell').first();
  await expect(connections).toHaveText(/^\d+$/);
  const before = Number(await connections.textContent());
  const chart = admin.getByRole('img', { name: /^Connections, last three minutes/ });
  await expect(chart).toHaveAccessibleName(`Connections, last three minutes: ${before}`);

  // Another browser connects: the numbers follow, within a tick or two.
  const benName = userName('ben');
  const ben = await server.signUp(browser, benName);
  const benPage = await ben.newPage();
  const benErrors = collectPageErrors(benPage);
  await benPage.goto('/');
  await expect(chat(benPage).status).toContainText('Online', { timeout: 30_000 });
  await expect(connections).toHaveText(String(before + 1));
  await expect(chart).toHaveAccessibleName(`Connections, last three minutes: ${before + 1}`);

  // A plain user gets no dashboard.
  const refused = await benPage.request.get('/admin');
  expect(refused.status()).toBe(403);

  // The announcement form reaches Ben's screen.
  const text = `Maintenance at six ${uid()}`;
  await admin.getByLabel('Announcement text').fill(text);
  await admin.getByRole('button', { name: 'Send announcement' }).click();
  await expect(admin.getByRole('status').filter({ hasText: 'Announcement sent to 2 users.' })).toBeVisible();
  await expect(benPage.getByText(text).first()).toBeVisible();

  // Signing Ben out everywhere ends his session: his tab goes to the login page.
  await admin.getByRole('button', { name: 'Refresh list' }).click();
  await admin.getByRole('button', { name: `Sign out ${benName} everywhere` }).click();
  await expect(admin.getByRole('status').filter({ hasText: `${benName} was signed out of 1 sessions.` })).toBeVisible();
  await expect(benPage).toHaveURL(/\/login/);
  await expect(connections).toHaveText(String(before));

  expect(adminErrors).toEqual([]);
  expect(benErrors).toEqual([]);
  await root.close();
  await ben.close();
});
