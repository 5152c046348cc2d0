import {
  chat,
  collectPageErrors,
  expect,
  holdWasm,
  registerViaApi,
  send,
  test,
  uid,
  userName,
} from './support/hibiki';

// Message times on the first load are the reader's local time: on the first
// paint (before the app is live) and after hydration, which must agree.

/** `HH:MM` of `iso` in `timeZone`, as a reader there reads a clock. */
function clock(iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(iso));
}

for (const timeZone of ['Asia/Tokyo', 'America/Los_Angeles']) {
  test(`times on first load are local in ${timeZone}, before and after hydration`, async ({
    users,
    browser,
  }) => {
    const writer = await users.open('aiko');
    const text = `what time is it ${uid()}`;
    await send(writer.page, text);

    const context = await browser.newContext({ timezoneId: timeZone });
    try {
      await registerViaApi(context, userName('reader'));
      const page = await context.newPage();
      const errors = collectPageErrors(page);
      const release = await holdWasm(page);
      await page.goto('/', { waitUntil: 'domcontentloaded' });
      const ui = chat(page);
      const time = ui.items(text).locator('time');
      const iso = await time.getAttribute('datetime');
      expect(iso).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      const local = clock(iso!, timeZone);
      // The zone really differs from UTC, so a UTC time would fail here.
      expect(local).not.toBe(clock(iso!, 'UTC'));

      // First paint: the app is not live yet.
      await expect(ui.status).not.toContainText('Online');
      await expect(time).toHaveText(local);

      release();
      await expect(ui.status).toContainText('Online', { timeout: 30_000 });
      await expect(time).toHaveText(local);
      expect(errors, 'no hydration mismatch or panic').toEqual([]);
    } finally {
      await context.close();
    }
  });
}
