import type { Browser, BrowserContext } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { PASSWORD, expect } from './hibiki';

/** The workspace root: the server resolves `target/site` from there. */
export const ROOT = path.join(__dirname, '..', '..', '..');

/** A fresh SQLite file's URL in the temp directory, named after `name`. */
export function sqliteUrl(name: string): string {
  return `sqlite://${path.join(os.tmpdir(), `hibiki-${name}-${process.pid}-${Date.now()}.db`)}`;
}

/** Where an [`OwnServer`] keeps its data and when it counts as started. */
export interface StoreOptions {
  /** The store's URL; a fresh SQLite file named after the server by default. */
  db?: string;
  /**
   * The path that must answer 200 before `start` returns: `/health` (the
   * default), or `/ready` for a node that must also have its bus connected.
   */
  readyPath?: string;
}

/**
 * A `hibiki` of a spec's own (not the suite's webServer), from the same
 * release build, on its own port and SQLite file: for specs that restart the
 * server, need other settings, or need the first account (an admin); also
 * the nodes of a cluster (tests/support/cluster.ts), on one shared store.
 */
export class OwnServer {
  readonly base: string;
  private readonly db: string;
  private readonly readyPath: string;
  private child: ChildProcess | undefined;

  /**
   * `name` names the SQLite file; `port` defaults to `base` plus the suite's
   * port offset, so two suites on one machine do not collide; `env` adds
   * settings; `store` picks another store or readiness check.
   */
  constructor(
    name: string,
    private readonly port: number,
    private readonly env: Record<string, string> = {},
    store: StoreOptions = {},
  ) {
    this.base = `http://127.0.0.1:${port}`;
    this.db = store.db ?? sqliteUrl(name);
    this.readyPath = store.readyPath ?? '/health';
  }

  /** Starts the server and waits until its ready path (`/health`) answers. */
  async start(): Promise<void> {
    this.child = spawn('./target/release/hibiki', [], {
      cwd: ROOT,
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
      .poll(async () => (await fetch(`${this.base}${this.readyPath}`).catch(() => null))?.status ?? 0, {
        timeout: 30_000,
      })
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
  signUp(browser: Browser, name: string): Promise<BrowserContext> {
    return signUpAt(browser, this.base, name);
  }
}

/** A fresh browser context on `base` (a server or a proxy) with a signed-up user `name`. */
export async function signUpAt(browser: Browser, base: string, name: string): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL: base });
  const res = await context.request.post('/api/auth/register', { data: { username: name, password: PASSWORD } });
  expect(res.status(), await res.text()).toBe(201);
  return context;
}

/** `base` plus the suite's port offset (`HIBIKI_E2E_PORT` mod 100). */
export function ownPort(variable: string, base: number): number {
  const fixed = process.env[variable];
  if (fixed) return Number(fixed);
  return base + (Number(process.env.HIBIKI_E2E_PORT ?? 3000) % 100);
}
