import type { Browser, BrowserContext } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { PASSWORD, expect } from './hibiki';

/**
 * A `hibiki` of a spec's own (not the suite's webServer), from the same
 * release build, on its own port and SQLite file: for specs that restart the
 * server, need other settings, or need the first account (an admin).
 */
export class OwnServer {
  readonly base: string;
  private readonly db: string;
  private child: ChildProcess | undefined;

  /**
   * `name` names the SQLite file; `port` defaults to `base` plus the suite's
   * port offset, so two suites on one machine do not collide; `env` adds
   * settings.
   */
  constructor(
    name: string,
    private readonly port: number,
    private readonly env: Record<string, string> = {},
  ) {
    this.base = `http://127.0.0.1:${port}`;
    this.db = `sqlite://${path.join(os.tmpdir(), `hibiki-${name}-${process.pid}-${Date.now()}.db`)}`;
  }

  /** Starts the server and waits until `/health` answers. */
  async start(): Promise<void> {
    this.child = spawn('./target/release/hibiki', [], {
      cwd: path.join(__dirname, '..', '..', '..'),
      env: {
        ...process.env,
        LEPTOS_SITE_ADDR: `127.0.0.1:${this.port}`,
        LEPTOS_SITE_ROOT: 'target/site',
        HIBIKI_DATABASE_URL: this.db,
        HIBIKI_SHUTDOWN_GRACE_S: '2',
        HIBIKI_LOGIN_PER_IP_PER_MIN: '10000',
        RUST_LOG: 'warn',
        ...this.env,
      },
      stdio: 'ignore',
    });
    await expect
      .poll(async () => (await fetch(`${this.base}/health`).catch(() => null))?.status ?? 0, { timeout: 30_000 })
      .toBe(200);
  }

  /** SIGTERM (sockets close with 1001), and waits for the exit. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
  }

  /** A fresh browser context on this server with a signed-up user `name`. */
  async signUp(browser: Browser, name: string): Promise<BrowserContext> {
    const context = await browser.newContext({ baseURL: this.base });
    const res = await context.request.post('/api/auth/register', { data: { username: name, password: PASSWORD } });
    expect(res.status(), await res.text()).toBe(201);
    return context;
  }
}

/** `base` plus the suite's port offset (`HIBIKI_E2E_PORT` mod 100). */
export function ownPort(variable: string, base: number): number {
  const fixed = process.env[variable];
  if (fixed) return Number(fixed);
  return base + (Number(process.env.HIBIKI_E2E_PORT ?? 3000) % 100);
}
