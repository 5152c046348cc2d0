import { expect, send, test, uid } from './support/hibiki';

// Issue 14 items 1 and 2 in the browser: editing and deleting one's own
// message, seen live by another user; reactions with live counts, who
// reacted in the label, and toggling one's own.

test('an edit and a deletion are seen live by the other user', async ({ users }) => {
  const ana = await users.open('ana');
  const bob = await users.open('bob');
  const tag = uid();
  const original = `draft ${tag}`;
  const edited = `final ${tag}`;

  await send(ana.page, original);
  await expect(bob.ui.items(original)).toHaveCount(1);
  const mine = ana.ui.items(original);

  // Escape cancels an edit.
  await mine.hover();
  await mine.getByRole('button', { name: 'Edit' }).click();
  const field = ana.page.getByRole('textbox', { name: 'Edit message' });
  await expect(field).toBeFocused();
  await field.fill('never sent');
  await field.press('Escape');
  await expect(field).toHaveCount(0);
  await expect(mine).not.toContainText('(edited)');

  // Enter saves it; the other user sees the new text, marked edited.
  await mine.hover();
  await mine.getByRole('button', { name: 'Edit' }).click();
  await field.fill(edited);
  await field.press('Enter');
  const theirs = bob.ui.items(edited);
  await expect(theirs).toHaveCount(1);
  await expect(theirs).toContainText('(edited)');
  await expect(theirs.locator('.msg__edited')).toHaveAttribute('title', /^Edited /);
  await expect(bob.ui.items(original)).toHaveCount(0);
  await expect(ana.ui.items(edited)).toContainText('(edited)');

  // Only the author is offered Edit and Delete.
  await theirs.hover();
  await expect(theirs.getByRole('button', { name: 'Add reaction' })).toBeVisible();
  await expect(theirs.getByRole('button', { name: 'Edit' })).toHaveCount(0);
  await expect(theirs.getByRole('button', { name: 'Delete' })).toHaveCount(0);

  // Delete asks first; confirmed, the other user sees a placeholder.
  const item = ana.ui.items(edited);
  await item.hover();
  await item.getByRole('button', { name: 'Delete' }).click();
  const confirm = ana.page.getByRole('group', { name: 'Delete this message?' });
  await expect(confirm).toBeVisible();
  await confirm.getByRole('button', { name: 'Delete message' }).click();
  await expect(bob.ui.items(edited)).toHaveCount(0);
  await expect(ana.ui.items(edited)).toHaveCount(0);
  await expect(bob.ui.log.getByText('message deleted')).not.toHaveCount(0);

  // The placeholder survives a reload (the text is gone from the store).
  await bob.page.reload();
  await expect(bob.ui.status).toContainText('Online', { timeout: 30_000 });
  await expect(bob.ui.items(edited)).toHaveCount(0);
  await expect(bob.ui.items(original)).toHaveCount(0);
});

test('reaction counts are live and one toggles one’s own', async ({ users }) => {
  const ana = await users.open('ana');
  const bob = await users.open('bob');
  const text = `vote ${uid()}`;
  await send(ana.page, text);
  const onBob = bob.ui.items(text);
  const onAna = ana.ui.items(text);
  await expect(onBob).toHaveCount(1);

  // Bob reacts from the picker.
  await onBob.hover();
  await onBob.getByRole('button', { name: 'Add reaction' }).click();
  await bob.page.getByRole('button', { name: 'React with 👍' }).click();
  const one = `1 reaction with 👍: ${bob.name}`;
  await expect(onBob.getByRole('button', { name: one })).toHaveAttribute('aria-pressed', 'true');
  await expect(onAna.getByRole('button', { name: one })).toHaveAttribute('aria-pressed', 'false');
  await expect(onAna.getByRole('button', { name: one })).toHaveAttribute('title', one);

  // Ana adds hers by clicking the chip: two, both named.
  await onAna.getByRole('button', { name: one }).click();
  const two = `2 reactions with 👍: ${bob.name}, ${ana.name}`;
  await expect(onAna.getByRole('button', { name: two })).toHaveAttribute('aria-pressed', 'true');
  await expect(onBob.getByRole('button', { name: two })).toContainText('2');

  // Bob takes his back.
  await onBob.getByRole('button', { name: two }).click();
  const left = `1 reaction with 👍: ${ana.name}`;
  await expect(onBob.getByRole('button', { name: left })).toHaveAttribute('aria-pressed', 'false');
  await expect(onAna.getByRole('button', { name: left })).toHaveAttribute('aria-pressed', 'true');
});
