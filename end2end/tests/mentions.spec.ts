import { expect, rooms, test, uid } from './support/hibiki';

// @mention autocomplete in the composer (app/src/autocomplete.rs): typing
// `@` and the start of a name lists the room's members who match (ARIA
// combobox), arrows move, Enter inserts the exact name instead of sending,
// Escape only closes the list, a click inserts too; the message sent with it
// notifies the member named.

test('@mention autocomplete by keyboard and mouse; sending it notifies', async ({ users }) => {
  // Two members whose names share a prefix no one else has.
  const tag = `x${uid()}`;
  const first = await users.open(tag);
  const second = await users.open(tag);
  const bob = await users.open('bob');
  const members = rooms(bob.page).members;
  await expect(members).toContainText(first.name);
  await expect(members).toContainText(second.name);

  const composer = bob.ui.composer;
  const combo = bob.page.getByRole('combobox', { name: 'Message' });
  const listbox = bob.page.getByRole('listbox', { name: 'Mention' });
  const options = listbox.getByRole('option');
  await expect(combo).toHaveAttribute('aria-expanded', 'false');

  await composer.pressSequentially(`hi @${tag}`);
  await expect(combo).toHaveAttribute('aria-expanded', 'true');
  await expect(options).toHaveCount(2);
  await expect(options.nth(0)).toHaveAttribute('aria-selected', 'true');
  // Both online, by name.
  const names = [first.name, second.name].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
  await expect(options.nth(0)).toContainText(`@${names[0]}`);
  await expect(options.nth(1)).toContainText(`@${names[1]}`);

  // Escape closes the list and nothing else.
  await composer.press('Escape');
  await expect(combo).toHaveAttribute('aria-expanded', 'false');
  await expect(composer).toHaveValue(`hi @${tag}`);

  // Typing on reopens it; ArrowDown moves to the second name.
  await composer.pressSequentially('-');
  await expect(options).toHaveCount(2);
  await composer.press('ArrowDown');
  await expect(options.nth(1)).toHaveAttribute('aria-selected', 'true');
  const active = await options.nth(1).getAttribute('id');
  await expect(composer).toHaveAttribute('aria-activedescendant', active ?? '');
  // Enter inserts (it does not send).
  await composer.press('Enter');
  await expect(composer).toHaveValue(`hi @${names[1]} `);
  await expect(combo).toHaveAttribute('aria-expanded', 'false');

  // Moving the caret off the word closes the list; back on it, it reopens.
  await composer.pressSequentially(`and @${tag}`);
  await expect(combo).toHaveAttribute('aria-expanded', 'true');
  await composer.press('Home');
  await expect(combo).toHaveAttribute('aria-expanded', 'false');
  await composer.press('End');
  await expect(combo).toHaveAttribute('aria-expanded', 'true');
  // A click inserts too.
  await options.filter({ hasText: `@${names[0]}` }).click();
  await expect(composer).toHaveValue(`hi @${names[1]} and @${names[0]} `);

  // Enter with the list closed sends; both named are notified.
  const text = `look ${uid()}`;
  await composer.pressSequentially(text);
  await composer.press('Enter');
  await expect(composer).toHaveValue('');
  for (const user of [first, second]) {
    const item = user.ui.items(text);
    await expect(item.locator('.mention[data-me="true"]')).toHaveText(`@${user.name}`);
    await expect(user.page.getByRole('button', { name: /^Notifications/ })).toHaveAccessibleName(
      /^Notifications, 1 unread$/,
    );
  }
});
