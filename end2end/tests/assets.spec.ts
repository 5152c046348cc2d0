import { expect, test } from './support/hibiki';
import type { Response } from '@playwright/test';

// The real build's bundle as the browser gets it: content-hashed file names
// cached forever, sent compressed from the files `cargo leptos build
// --precompress` wrote, and the page (never cached without asking) still
// hydrating from them. The server's own tests (server/tests/static_assets.rs)
// check the bytes; this checks the browser's side.

const HASHED = /\/pkg\/hibiki\.[A-Za-z0-9_-]{22}\.(wasm|js|css)$/;

test('the page loads its hashed bundle compressed and hydrates', async ({ users }) => {
  const bundle = new Map<string, Response>();
  let page: Response | undefined;
  const user = await users.open('assets', {
    prepare: async (context) => {
      context.on('response', (res) => {
        const url = new URL(res.url());
        const kind = HASHED.exec(url.pathname)?.[1];
        if (kind) bundle.set(kind, res);
        if (url.pathname === '/' && res.request().resourceType() === 'document') page = res;
      });
    },
  });
  // Online is only reachable through the hydrated wasm's WebSocket; the
  // fixture also fails the test on any page error (e.g. a hydration panic).
  await expect(user.ui.status).toContainText('Online');

  expect([...bundle.keys()].sort(), 'hashed wasm, js and css requested').toEqual([
    'css',
    'js',
    'wasm',
  ]);
  for (const [kind, res] of bundle) {
    expect(res.status(), kind).toBe(200);
    const headers = await res.allHeaders();
    expect(headers['cache-control'], kind).toBe('public, max-age=31536000, immutable');
    // Brotli whenever the browser offers it (Chromium may not over plain
    // http), gzip otherwise: never the raw file.
    const offered = (await res.request().allHeaders())['accept-encoding'] ?? '';
    expect(offered, `${kind}: the browser accepts compression`).toMatch(/gzip|br/);
    expect(headers['content-encoding'], `${kind} (offered: ${offered})`).toBe(
      /\bbr\b/.test(offered) ? 'br' : 'gzip',
    );
  }
  // The wasm crossed the wire smaller than it is.
  const wasm = bundle.get('wasm')!;
  const sizes = await wasm.request().sizes();
  const decoded = (await wasm.body()).length;
  expect(sizes.responseBodySize).toBeGreaterThan(0);
  expect(sizes.responseBodySize).toBeLessThan(decoded / 2);
  test.info().annotations.push({
    type: 'wasm bytes',
    description: `${sizes.responseBodySize} transferred, ${decoded} decoded`,
  });

  // The page itself: revalidated on every visit, compressed on the fly.
  expect(page, 'the document response').toBeDefined();
  const pageHeaders = await page!.allHeaders();
  expect(pageHeaders['cache-control']).toBe('no-cache');
  expect(pageHeaders['content-encoding']).toMatch(/^(br|gzip)$/);
});
