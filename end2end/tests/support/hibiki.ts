import {
  test as base,
  expect,
  type APIRequestContext,
  type Browser,
  type BrowserContext,
  type Page,
} from '@playwright/test';

// Shared helpers for the Hibiki specs: unique names, role/label locators for
// the chat and the auth forms, and signing up users. No sleeps: every wait is
// a web-first assertion on something the user can see.
//
// Specs import `test` and `expect` from here: `test` is Playwright's with a
// `users` fixture (see below) that opens signed-in users and cleans up after them.

export { expect };

/** A short tag unique to this call: base36 time plus random. */
export function uid(): string {
  return Date.now().toString(36) + Math.random().toString(36).slice(2, 6);
}

/** Usernames are 3-32 of [A-Za-z0-9_.-] (docs/security.md); this stays well under. */
export function userName(prefix: string): string {
  return `${prefix}-${uid()}`;
}

export const PASSWORD = 'correct horse battery';

/** The parts of the chat UI the tests touch, all by role or label. */
export function chat(page: Page) {
  const log = page.getByRole('log', { name: 'Messages' });
  return {
    status: page.getByRole('status', { name: 'Connection status' }),
    log,
    composer: page.getByRole('textbox', { name: 'Message' }),
    sendButton: page.getByRole('button', { name: 'Send' }),
    logout: page.getByRole('button', { name: 'Log out' }),
    signedInAs: page.getByLabel('Signed in as'),
    /** The list items of the log whose text contains `text`. */
    items: (text: string) => log.getByRole('listitem').filter({ hasText: text }),
  };
}

/** The login / register form. */
export function authForm(page: Page) {
  return {
    username: page.getByLabel('Username'),
    password: page.getByLabel('Password'),
    login: page.getByRole('button', { name: 'Log in' }),
    register: page.getByRole('button', { name: 'Create account' }),
    alert: page.getByRole('alert'),
  };
}

/**
 * Collects uncaught page errors. A hydration mismatch or a panic in the wasm
 * shows up here (e.g. `RuntimeError: unreachable`), not as a failed locator.
 */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`${err.name}: ${err.message}`));
  return errors;
}

/**
 * Registers `name` through the HTTP API from inside `context`, so the
 * session cookie lands in that context's cookie jar as it would after the form.
 */
export async function registerViaApi(context: BrowserContext, name: string): Promise<void> {
  const res = await context.request.post('/api/auth/register', {
    data: { username: name, password: PASSWORD },
  });
  expect(res.status(), await res.text()).toBe(201);
}

/** Opens the chat at `/` and waits until the WebSocket is joined. */
export async function openChat(page: Page): Promise<void> {
  const ui = chat(page);
  await page.goto('/');
  await expect(ui.status).toContainText('Online', { timeout: 30_000 });
  // Attached, not visible: an empty log can have no height.
  await expect(ui.log).toBeAttached();
  await expect(ui.composer).toBeVisible();
}

/** A signed-in user in their own browser context (own cookies and storage), on the chat. */
export interface User {
  /** The username, `${prefix}-<unique tag>`. */
  name: string;
  context: BrowserContext;
  page: Page;
  /** Uncaught page errors collected so far (see collectPageErrors). */
  errors: string[];
  ui: ReturnType<typeof chat>;
}

/** How `users.open` opens a user. */
export interface OpenOptions {
  /**
   * Runs once the user is signed up, before the page opens: init scripts
   * (`context.addInitScript`), or publishing to a user who is not online yet.
   */
  prepare?: (context: BrowserContext, name: string) => Promise<void>;
  /**
   * Wait until the chat is joined (the default); `false` only loads `/`, for
   * pages whose WebSocket cannot connect.
   */
  online?: boolean;
}

/** The `users` fixture. */
export interface Users {
  /**
   * Signs up a user named `userName(prefix)` in a fresh browser context and
   * opens the chat, joined (see `OpenOptions`). Every user opened is checked
   * for page errors and has its context closed when the test ends.
   */
  open(prefix: string, options?: OpenOptions): Promise<User>;
}

/** A fresh browser context with a signed-up user `name` on the chat. */
async function openUser(
  browser: Browser,
  name: string,
  contexts: BrowserContext[],
  { prepare, online = true }: OpenOptions = {},
) {
  const context = await browser.newContext();
  // Tracked before anything can fail, so teardown closes it either way.
  contexts.push(context);
  await registerViaApi(context, name);
  await prepare?.(context, name);
  const page = await context.newPage();
  const errors = collectPageErrors(page);
  if (online) {
    await openChat(page);
  } else {
    await page.goto('/');
  }
  return { context, page, errors, ui: chat(page) };
}

/**
 * Playwright's `test` with a `users` fixture: `const alice = await
 * users.open('aiko')`. In teardown, every user opened must have no page
 * errors, and every context is closed (also when that check fails). Closing a
 * context in the test itself (e.g. to see a user leave) is fine.
 */
export const test = base.extend<{ users: Users }>({
  users: async ({ browser }, use) => {
    const contexts: BrowserContext[] = [];
    const opened: User[] = [];
    await use({
      async open(prefix, options) {
        const name = userName(prefix);
        const user = { name, ...(await openUser(browser, name, contexts, options)) };
        opened.push(user);
        return user;
      },
    });
    try {
      for (const u of opened) expect(u.errors, `page errors of ${u.name}`).toEqual([]);
    } finally {
      for (const context of contexts) await context.close();
    }
  },
});

/** The rooms sidebar, the members panel and the room's extras, by role and label. */
export function rooms(page: Page) {
  const nav = page.getByRole('navigation', { name: 'Rooms' });
  const dms = nav.getByRole('group', { name: 'Direct messages' });
  const members = page.getByRole('complementary', { name: 'Members' });
  return {
    nav,
    dms,
    members,
    /** The sidebar link of a room (or of a DM, by the other user's name). */
    link: (label: string) => nav.getByRole('link').filter({ hasText: label }),
    /** The unread badge inside a sidebar link. */
    badge: (label: string) => nav.getByRole('link').filter({ hasText: label }).locator('.badge'),
    typing: page.locator('.typing[aria-live="polite"]'),
    seenBy: page.locator('.seen-by'),
    title: page.getByRole('heading', { level: 1 }),
  };
}

/** Opens a room (or DM) from the sidebar and waits until it is joined. */
export async function openRoom(page: Page, label: string): Promise<void> {
  await rooms(page).link(label).click();
  await expect(chat(page).status).toContainText('Online');
}

/** Sends `text` from the composer with Enter and waits until it is stored (no longer pending). */
export async function send(page: Page, text: string): Promise<void> {
  const ui = chat(page);
  await ui.composer.fill(text);
  await ui.composer.press('Enter');
  await expect(ui.composer).toHaveValue('');
  const item = ui.items(text);
  await expect(item).toHaveCount(1);
  await expect(item).not.toHaveAttribute('data-state', /.*/);
}

/**
 * Puts a filter between the page and the server's WebSocket: the id of every
 * `chat:send` is recorded in the returned array, and a send for which
 * `drop()` returns true never reaches the server (so no ack comes back).
 * Everything else passes both ways.
 */
export async function interceptSends(page: Page, drop: () => boolean): Promise<string[]> {
  const ids: string[] = [];
  await page.routeWebSocket(/\/ws$/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((message) => {
      const frame = JSON.parse(String(message));
      if (frame.type === 'chat:send') {
        ids.push(frame.id);
        if (drop()) return;
      }
      server.send(message);
    });
  });
  return ids;
}

/**
 * The publisher API key the test server accepts (`HIBIKI_API_KEY` in
 * playwright.config.ts's webServer.env; keep the two in sync).
 */
export const API_KEY = 'e2e-publisher-key';

export type NotificationKind = 'mention' | 'dm' | 'system' | 'job' | 'custom';

/** The body of `POST /api/notifications` (docs: server/src/http/notifications.rs). */
export interface PublishBody {
  /** A username, a list of usernames, or `'*'` for every user (avoid: the DB is shared). */
  to: string | string[];
  kind: NotificationKind;
  title: string;
  body: string;
  /** Where the notification's title links to, e.g. `/rooms/general`. */
  url?: string;
  /** 0..=100, for `job` notifications. */
  progress?: number;
  /** Same key, same user: the notification is updated in place. */
  key?: string;
}

/**
 * Publishes a notification with the publisher API key, as a backend job
 * would; `request` may be any context's (`page.request`, `context.request`)
 * or the `request` fixture. Expects 202 and returns how many users got it.
 */
export async function publishNotification(
  request: APIRequestContext,
  body: PublishBody,
): Promise<number> {
  const res = await request.post('/api/notifications', {
    headers: { Authorization: `Bearer ${API_KEY}` },
    data: body,
  });
  expect(res.status(), await res.text()).toBe(202);
  const { count } = (await res.json()) as { count: number };
  return count;
}

/**
 * Announces `text` to every user with the publisher API key (as an admin
 * would): live to every open page, stored for everyone. Expects 202.
 */
export async function announce(request: APIRequestContext, text: string): Promise<void> {
  const res = await request.post('/api/announcements', {
    headers: { Authorization: `Bearer ${API_KEY}` },
    data: { text },
  });
  expect(res.status(), await res.text()).toBe(202);
}

/**
 * Holds every `/pkg/*.wasm` request of `page` until the returned `release()`
 * is called: the page shows its server-rendered HTML and is not live (not
 * hydrated) until then, as on a slow link. Navigate with
 * `waitUntil: 'domcontentloaded'` meanwhile (`load` may wait for the wasm).
 */
export async function holdWasm(page: Page): Promise<() => void> {
  let release = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/pkg/*.wasm', async (route) => {
    await released;
    await route.continue();
  });
  return release;
}

/**
 * Stores `texts` in `room` (in order) as the page's signed-in user over a
 * WebSocket of its own opened inside the page (the session cookie
 * authenticates it), and resolves once every message is acknowledged, i.e.
 * stored. Hundreds of messages take a moment this way, where the composer
 * would take minutes. Stay under the test server's frame burst
 * (`HIBIKI_FRAME_BURST`, 500 per connection).
 */
export async function seedMessages(page: Page, room: string, texts: string[]): Promise<void> {
  await page.evaluate(
    async ({ room, texts }) => {
      const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
      const ws = new WebSocket(`${scheme}://${location.host}/ws`);
      const waiting = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();
      ws.onmessage = (event) => {
        const frame = JSON.parse(String(event.data));
        const w = waiting.get(frame.id);
        if (!w) return;
        waiting.delete(frame.id);
        if (frame.type === 'ack') w.resolve();
        else w.reject(new Error(`${frame.id}: ${JSON.stringify(frame.payload)}`));
      };
      const request = (id: string, type: string, payload: unknown) =>
        new Promise<void>((resolve, reject) => {
          waiting.set(id, { resolve, reject });
          ws.send(JSON.stringify({ type, id, payload }));
        });
      await new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onerror = () => reject(new Error('seed socket failed'));
      });
      // Request ids unique to this call: the server answers a repeated
      // `chat:send` id with the message first stored under it.
      const tag = `seed${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
      await request(`${tag}-join`, 'room:join', { room });
      // One after another: the room's seqs follow the order of `texts`.
      for (let i = 0; i < texts.length; i++) {
        await request(`${tag}-${i}`, 'chat:send', { room, text: texts[i] });
      }
      ws.close();
    },
    { room, texts },
  );
}

/** Creates a public room named `prefix-<unique tag>` as the context's user; returns its name. */
export async function createRoom(context: BrowserContext, prefix: string): Promise<string> {
  const name = `${prefix}-${uid()}`.toLowerCase();
  const res = await context.request.post('/api/rooms', { data: { name, private: false } });
  expect(res.status(), await res.text()).toBe(201);
  return name;
}
