// Takes the README screenshot: two users chatting, a mention and a job's
// progress in the open notification panel, and a toast. Run against a running
// server started with an API key (default http://127.0.0.1:3000):
//   HIBIKI_API_KEY=change-me node scripts/screenshot.mjs [url] [out.png]
import { chromium } from '@playwright/test';

const base = process.argv[2] ?? 'http://127.0.0.1:3000';
const out = process.argv[3] ?? '../docs/screenshot.png';
const tag = Date.now().toString(36).slice(-4);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
});
const users = [`aiko-${tag}`, `ben-${tag}`];
const pages = [];
for (const name of users) {
  const context = await browser.newContext({ baseURL: base, viewport: { width: 1100, height: 640 } });
  const res = await context.request.post('/api/auth/register', {
    data: { username: name, password: 'correct horse battery' },
  });
  if (res.status() !== 201) throw new Error(`register ${name}: ${res.status()}`);
  const page = await context.newPage();
  await page.goto('/');
  await page.getByRole('status', { name: 'Connection status' }).getByText('Online').waitFor();
  pages.push(page);
}
const lines = [
  [0, 'Morning! Is the deploy still on for today?'],
  [1, 'Yes — after the 11:00 standup.'],
  [1, 'I will post the checklist here.'],
  [0, 'Great, thanks Ben! See https://example.com/checklist'],
];
for (const [who, text] of lines) {
  const composer = pages[who].getByRole('textbox', { name: 'Message' });
  await composer.fill(text);
  await composer.press('Enter');
  await pages[1 - who].getByRole('log', { name: 'Messages' }).getByText(text).waitFor();
}
// Notifications for aiko: a job publishing its progress, then ben's mention.
const key = process.env.HIBIKI_API_KEY ?? 'change-me';
const publish = async (body) => {
  const res = await pages[0].request.post('/api/notifications', {
    headers: { Authorization: `Bearer ${key}` },
    data: { to: users[0], ...body },
  });
  if (res.status() !== 202) throw new Error(`publish: ${res.status()} ${await res.text()}`);
};
const job = { kind: 'job', title: 'Nightly export', key: `export-${tag}` };
await publish({ ...job, body: 'Exporting 1,240 messages…', progress: 10 });
const mention = `@${users[0]} can you review the checklist before 11?`;
const composer = pages[1].getByRole('textbox', { name: 'Message' });
await composer.fill(mention);
await composer.press('Enter');
const bell = pages[0].getByRole('button', { name: /^Notifications/ });
await bell.click();
const panel = pages[0].getByRole('region', { name: 'Notifications', exact: true });
await panel.getByText(`${users[1]} mentioned you`).waitFor();
await publish({ ...job, body: 'Exporting 1,240 messages…', progress: 65 });
await panel.locator('progress[aria-valuenow="65"]').waitFor();
const toast = pages[0].getByRole('region', { name: 'Toasts' }).getByRole('status').first();
await toast.waitFor();
await toast.hover();
await pages[0].screenshot({ path: out });
await browser.close();
console.log(`wrote ${out}`);
