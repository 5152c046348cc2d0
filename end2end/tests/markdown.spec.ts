import { expect, test, uid } from './support/hibiki';

// Markdown in messages (app/src/markdown.rs, components/rich_text.rs): what
// one user writes, the other sees formatted, live and after a reload (the
// server's first paint, then hydration of the same nodes); HTML in the text
// stays text; a code block's Copy button puts the raw code on the clipboard.

test('Markdown: bold, links and a code block with Copy; HTML stays text', async ({ users }) => {
  const alice = await users.open('alice');
  const bob = await users.open('bob');
  await bob.context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const dialogs: string[] = [];
  for (const user of [alice, bob]) {
    user.page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
  }

  const tag = uid();
  const code = `let x = "${tag}";\nprintln!("<b>{x}</b>"); // ${'long '.repeat(40)}`;
  const text = [
    `**bold ${tag}** and [docs](https://example.com/docs) and [bad](javascript:alert(1)) <img src=x onerror=alert(1)>`,
    '',
    '<div onmouseover="alert(2)">raw block</div>',
    '',
    '```rust',
    code,
    '```',
  ].join('\n');
  await alice.ui.composer.fill(text);
  await alice.ui.composer.press('Enter');
  await expect(alice.ui.composer).toHaveValue('');

  const check = async (user: typeof bob) => {
    const item = user.ui.items(`bold ${tag}`);
    await expect(item).toHaveCount(1);
    await expect(item.locator('strong')).toHaveText(`bold ${tag}`);
    const docs = item.getByRole('link', { name: 'docs' });
    await expect(docs).toHaveAttribute('href', 'https://example.com/docs');
    await expect(docs).toHaveAttribute('rel', 'noopener noreferrer nofollow');
    await expect(docs).toHaveAttribute('target', '_blank');
    // A javascript: link is its text only; HTML is the characters typed.
    await expect(item.getByRole('link', { name: 'bad' })).toHaveCount(0);
    await expect(item).toContainText('and bad <img src=x onerror=alert(1)>');
    await expect(item).toContainText('<div onmouseover="alert(2)">raw block</div>');
    await expect(item.locator('img, [onerror], [onmouseover]')).toHaveCount(0);
    await expect(item.locator('pre code')).toHaveText(code);
  };
  await check(alice);
  await check(bob);

  const block = bob.ui.items(`bold ${tag}`).locator('.md-pre');
  await block.getByRole('button', { name: 'Copy code' }).click();
  await expect(block.getByRole('button', { name: 'Code copied' })).toHaveText('Copied');
  expect(await bob.page.evaluate(() => navigator.clipboard.readText())).toBe(code);
  // The state is brief: the button offers to copy again.
  await expect(block.getByRole('button', { name: 'Copy code' })).toHaveText('Copy');

  // The first paint (server-rendered) shows the same; hydrating it must not
  // fail (a mismatch is a page error, checked by the fixture).
  await bob.page.reload();
  await expect(bob.ui.status).toContainText('Online', { timeout: 30_000 });
  await check(bob);

  // On a 360 px phone the code block scrolls sideways; the page does not.
  await bob.page.setViewportSize({ width: 360, height: 740 });
  const pre = bob.ui.items(`bold ${tag}`).locator('pre');
  await expect
    .poll(() => pre.evaluate((el) => el.scrollWidth > el.clientWidth))
    .toBe(true);
  await expect
    .poll(() => bob.page.evaluate(() => document.documentElement.scrollWidth))
    .toBeLessThanOrEqual(360);
  expect(dialogs, 'a dialog was opened by message text').toEqual([]);
});
