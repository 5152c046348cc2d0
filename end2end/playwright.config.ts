import { defineConfig } from '@playwright/test';
import * as os from 'node:os';
import * as path from 'node:path';

// Playwright end-to-end suite for Hibiki.
//
// Run it after `cargo leptos build --release` (scripts/test.sh does both):
//   cd end2end && CI=1 npx playwright test
// Without CI set, an already running server on :3000 (e.g. `cargo leptos watch`
// or `cargo leptos end-to-end`) is reused instead of starting a new one.

// HIBIKI_E2E_PORT lets a second suite run beside another server (default 3000).
const PORT = process.env.HIBIKI_E2E_PORT ?? '3000';
const BASE_URL = `http://127.0.0.1:${PORT}`;

// A fresh SQLite file per run so tests never see another run's rooms or
// messages. Only the runner process starts the webServer, so the value computed
// here in a worker process (the config is loaded there too) is never used.
const dbFile = path.join(os.tmpdir(), `hibiki-e2e-${process.pid}-${Date.now()}.db`);

export default defineConfig({
  testDir: './tests',
  // One worker: the box has 2 cores and the server plus two browser contexts
  // already compete for them. Tests that need two users open two contexts.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: 'list',
  // Joining waits up to 30 s for hydration (see tests/chat.spec.ts); two users need two joins.
  timeout: 60_000,
  expect: { timeout: 10_000 },

  use: {
    baseURL: BASE_URL,
    trace: 'retain-on-failure',
  },

  projects: [
    {
      name: 'chromium',
      use: {
        browserName: 'chromium',
        // Debian's chromium package; Playwright's own browser download is never
        // used (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1, GitHub/CDN not reachable).
        launchOptions: {
          executablePath: '/usr/bin/chromium',
          args: [
            // Chromium refuses to start its sandbox as root (CI runs as root).
            '--no-sandbox',
            '--disable-gpu',
            // Keep the browser off the network: only 127.0.0.1 is reachable.
            '--disable-quic',
            '--no-first-run',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
          ],
        },
      },
    },
  ],

  webServer: {
    // Built by `cargo leptos build --release`; must run from the workspace root
    // so that LEPTOS_SITE_ROOT's default (target/site) resolves.
    command: './target/release/hibiki',
    cwd: '..',
    url: `${BASE_URL}/health`,
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe',
    // SIGTERM lets the server close sockets and the store cleanly.
    gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
    // Merged over process.env by Playwright.
    env: {
      HIBIKI_DATABASE_URL: `sqlite://${dbFile}`,
      LEPTOS_SITE_ADDR: `127.0.0.1:${PORT}`,
      LEPTOS_SITE_ROOT: 'target/site',
      HIBIKI_SHUTDOWN_GRACE_S: '2',
      // Every test signs users up from 127.0.0.1: lift the per-IP login limit
      // (its behaviour is covered by server/tests/security.rs).
      HIBIKI_LOGIN_PER_IP_PER_MIN: '10000',
      // Tests type faster than people; the frame limits are covered by
      // server/tests/security.rs.
      HIBIKI_FRAME_BURST: '500',
      // The publisher key tests/notifications.spec.ts sends to POST
      // /api/notifications (API_KEY in tests/support/hibiki.ts).
      HIBIKI_API_KEY: 'e2e-publisher-key',
      // A key may publish 60 times a minute; the notification tests publish
      // in quick bursts (the limit is covered by the server's own tests).
      HIBIKI_PUBLISH_PER_MIN: '10000',
      // The server's stdout is piped into the report; keep request logs out.
      RUST_LOG: process.env.RUST_LOG ?? 'info,tower_http=warn',
    },
  },
});
