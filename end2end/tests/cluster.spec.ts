import type { Browser, Page } from '@playwright/test';
import { chat, collectPageErrors, expect, openChat, rooms, send, test, uid, userName } from './support/hibiki';
import { Cluster } from './support/cluster';
import { ownPort, signUpAt } from './support/server';

// Two browsers on two different nodes of a cluster (issue 13): Redis as the
// bus, three nodes on one SQLite file, nginx in front. Each browser goes
// through its own nginx (the repository's template), so which node holds it
// is fixed by construction, and the admin dashboard confirms it: proxy A
// fronts node1 only, proxy B fronts node2 and node3 (round robin). The users
// chat, see each other's presence and typing, and the dashboard, open on
// node1, shows node2's or node3's connections change when Bob connects and
// leaves.

// Redis, then node1..node3, then the two proxies: six ports from here.
const cluster = new Cluster('cluster', ownPort('HIBIKI_CLUSTER_PORT', 3400), 3, 2);

// Starting three nodes and two browsers on a loaded 2-core box takes a while.
test.describe.configure({ timeout: 120_000 });

test.beforeAll(() => cluster.start());
test.afterAll(() => cluster.stop());

/** A user signed up through `base`, on the chat, joined. */
async function user(browser: Browser, base: string, prefix: string) {
  const name = userName(prefix);
  const context = await signUpAt(browser, base, name);
  const page = await context.newPage();
  const errors = collectPageErrors(page);
  await openChat(page);
  return { name, context, page, errors, ui: chat(page), room: rooms(page) };
}

/**
 * The dashboard's connection count per node, by node id, as shown now (read
 * in one go: the rows are rebuilt every second).
 */
function connectionsByNode(admin: Page): Promise<Record<string, number>> {
  return admin
    .getByRole('table', { name: 'Nodes' })
    .locator('tbody tr')
    .evaluateAll((rows) =>
      Object.fromEntries(
        rows.map((row) => [
          row.querySelector('th')?.textContent ?? '',
          Number(row.querySelector('td')?.textContent),
        ]),
      ),
    );
}

test('two browsers on two nodes chat, see presence and typing; the dashboard follows both nodes', async ({
  browser,
}) => {
  const proxyA = await cluster.proxy([0]);
  const proxyB = await cluster.proxy([1, 2]);

  // The first account is the admin; its dashboard is served by node1.
  const root = await signUpAt(browser, proxyA.base, userName('root'));
  const admin = await root.newPage();
  const adminErrors = collectPageErrors(admin);
  await admin.goto('/admin');
  await expect(admin.getByRole('status').filter({ hasText: 'Live' })).toBeVisible({ timeout: 30_000 });
  // Every node shares its numbers over the bus: all three are listed.
  await expect
    .poll(async () => Object.keys(await connectionsByNode(admin)).sort())
    .toEqual(['node1', 'node2', 'node3']);
  const before = await connectionsByNode(admin);
  const elsewhere = (c: Record<string, number>) => c.node2 + c.node3;

  // Alice, through proxy A: on node1.
  const alice = await user(browser, proxyA.base, 'aiko');
  await expect.poll(async () => (await connectionsByNode(admin)).node1).toBe(before.node1 + 1);

  // Bob, through proxy B: on node2 or node3, and node1 does not change.
  const bob = await user(browser, proxyB.base, 'ben');
  await expect.poll(async () => elsewhere(await connectionsByNode(admin))).toBe(elsewhere(before) + 1);
  const withBob = await connectionsByNode(admin);
  expect(withBob.node1, 'Bob is not on node1').toBe(before.node1 + 1);
  // The chart adds up the cluster.
  const total = (c: Record<string, number>) => c.node1 + c.node2 + c.node3;
  await expect(admin.getByRole('img', { name: /^Connections, last three minutes/ })).toHaveAccessibleName(
    `Connections, last three minutes: ${total(withBob)}`,
  );

  // Presence across nodes: each sees the other online in #general.
  const online = (page: Page) => rooms(page).members.getByRole('list', { name: 'Online' });
  await expect(online(alice.page).getByText(bob.name, { exact: true })).toHaveCount(1);
  await expect(online(bob.page).getByText(alice.name, { exact: true })).toHaveCount(1);

  // Typing across nodes, both ways; sending clears it.
  await bob.ui.composer.pressSequentially('hello', { delay: 20 });
  await expect(alice.room.typing).toHaveText(`${bob.name} is typing…`);
  const fromBob = `from node2 or 3 ${uid()}`;
  await send(bob.page, fromBob);
  await expect(alice.ui.items(fromBob)).toHaveCount(1);
  await expect(alice.room.typing).toHaveText('');

  await alice.ui.composer.pressSequentially('hi', { delay: 20 });
  await expect(bob.room.typing).toHaveText(`${alice.name} is typing…`);
  const fromAlice = `from node1 ${uid()}`;
  await send(alice.page, fromAlice);
  await expect(bob.ui.items(fromAlice)).toHaveCount(1);
  await expect(bob.room.typing).toHaveText('');
  // Once each, in the same order on both screens.
  for (const page of [alice.page, bob.page]) {
    await expect(chat(page).items(fromBob)).toHaveCount(1);
    await expect(chat(page).log.getByRole('listitem').filter({ hasText: /from node/ })).toHaveText([
      new RegExp(fromBob),
      new RegExp(fromAlice),
    ]);
  }

  // Bob leaves: Alice sees him offline, and his node's count goes back.
  expect(bob.errors).toEqual([]);
  await bob.context.close();
  const offline = rooms(alice.page).members.getByRole('list', { name: 'Offline' });
  await expect(offline.getByText(bob.name, { exact: true })).toHaveCount(1);
  await expect(online(alice.page).getByText(bob.name, { exact: true })).toHaveCount(0);
  await expect.poll(async () => elsewhere(await connectionsByNode(admin))).toBe(elsewhere(before));

  expect(alice.errors).toEqual([]);
  expect(adminErrors).toEqual([]);
  await alice.context.close();
  await root.close();
});
