import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from './hibiki';
import { OwnServer, ROOT, sqliteUrl } from './server';

/**
 * A local cluster for a spec: Debian's `redis-server` (the bus), `hibiki`
 * nodes from the release build on one shared SQLite file, and nginx in front
 * of them with the repository's deploy/nginx.conf.template (the
 * configuration scripts/cluster.sh and server/tests/common/nginx.rs run),
 * all on loopback in temporary directories. scripts/test.sh installs
 * redis-server and nginx; a missing one fails the spec, it does not skip it.
 */

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Spawns `command` and waits until it listens on `port`; fails with `log()`
 * if it exits first (a port taken, a bad configuration, not installed).
 */
async function spawnListening(
  what: string,
  command: string,
  args: string[],
  port: number,
  log: () => string,
): Promise<ChildProcess> {
  const child = spawn(command, args, { stdio: 'ignore' });
  let failed: string | undefined;
  child.once('error', (e) => (failed = `${what} could not start (${command}): ${e.message}`));
  child.once('exit', (code, signal) => (failed = `${what} exited (${code ?? signal}): ${log()}`));
  await expect
    .poll(
      async () => {
        if (failed) throw new Error(failed);
        return listening(port);
      },
      { message: `${what} listens on 127.0.0.1:${port}`, timeout: 30_000 },
    )
    .toBe(true);
  return child;
}

/** SIGTERM, and waits for the exit. */
async function terminate(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}

function tempDir(what: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `hibiki-e2e-${what}-`));
}

/** A throwaway `redis-server` on `port`, nothing persisted. */
export class Redis {
  readonly url: string;
  private child: ChildProcess | undefined;
  private readonly dir = tempDir('redis');

  constructor(private readonly port: number) {
    this.url = `redis://127.0.0.1:${port}/`;
  }

  async start(): Promise<void> {
    const logfile = path.join(this.dir, 'redis.log');
    this.child = await spawnListening(
      'redis-server',
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']
        .concat(['--dir', this.dir, '--logfile', logfile]),
      this.port,
      () => (fs.existsSync(logfile) ? fs.readFileSync(logfile, 'utf8') : ''),
    );
  }

  async stop(): Promise<void> {
    await terminate(this.child);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * deploy/nginx.conf.template filled in for a prefix directory, a listen
 * port and the nodes' ports (the line naming `@UPSTREAM@` once per node):
 * the same rendering as server/tests/common/nginx.rs and scripts/cluster.sh.
 */
function nginxConfig(prefix: string, port: number, upstreams: number[]): string {
  const template = fs.readFileSync(path.join(ROOT, 'deploy', 'nginx.conf.template'), 'utf8');
  return template
    .split('\n')
    .flatMap((line) =>
      line.includes('@UPSTREAM@') ? upstreams.map((p) => line.replace('@UPSTREAM@', `127.0.0.1:${p}`)) : [line],
    )
    .join('\n')
    .replaceAll('@PREFIX@', prefix)
    .replaceAll('@LISTEN@', `127.0.0.1:${port}`);
}

/** Debian's nginx on `port` in front of the nodes on `upstreams` (round robin). */
export class Nginx {
  readonly base: string;
  private child: ChildProcess | undefined;
  private readonly dir = tempDir('nginx');

  constructor(
    private readonly port: number,
    private readonly upstreams: number[],
  ) {
    this.base = `http://127.0.0.1:${port}`;
  }

  async start(): Promise<void> {
    const conf = path.join(this.dir, 'nginx.conf');
    const errorLog = path.join(this.dir, 'error.log');
    fs.writeFileSync(conf, nginxConfig(this.dir, this.port, this.upstreams));
    this.child = await spawnListening(
      'nginx',
      '/usr/sbin/nginx',
      ['-c', conf, '-p', this.dir, '-e', errorLog],
      this.port,
      () => (fs.existsSync(errorLog) ? fs.readFileSync(errorLog, 'utf8') : ''),
    );
  }

  /** SIGTERM: the master stops its workers (SIGKILL would orphan them, still listening). */
  async stop(): Promise<void> {
    await terminate(this.child);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Redis on `basePort` and `count` nodes on the ports after it, named
 * `node1`, `node2`, …, sharing one SQLite file. Proxies (`proxy`) take the
 * ports after the nodes'. Pages may come through any proxy: every node
 * trusts loopback proxies and accepts WebSockets from their origins.
 */
export class Cluster {
  readonly redis: Redis;
  readonly nodes: OwnServer[];
  private readonly proxies: Nginx[] = [];

  constructor(
    name: string,
    private readonly basePort: number,
    count: number,
    maxProxies: number,
  ) {
    this.redis = new Redis(basePort);
    const db = sqliteUrl(name);
    const proxyOrigins = Array.from({ length: maxProxies }, (_, i) => {
      const port = basePort + 1 + count + i;
      return `http://127.0.0.1:${port},http://localhost:${port}`;
    });
    this.nodes = Array.from(
      { length: count },
      (_, i) =>
        new OwnServer(
          name,
          basePort + 1 + i,
          {
            HIBIKI_REDIS_URL: this.redis.url,
            HIBIKI_NODE_ID: `node${i + 1}`,
            HIBIKI_TRUSTED_PROXIES: '127.0.0.1',
            HIBIKI_PUBLIC_ORIGIN: proxyOrigins.join(','),
            HIBIKI_FRAME_BURST: '500',
          },
          { db, readyPath: '/ready' },
        ),
    );
  }

  /** Starts Redis, then the nodes one at a time (the first creates the store), each ready. */
  async start(): Promise<void> {
    await this.redis.start();
    for (const node of this.nodes) await node.start();
  }

  /** Starts an nginx in front of the nodes at `indexes` (0-based) on the next proxy port. */
  async proxy(indexes: number[]): Promise<Nginx> {
    const port = this.basePort + 1 + this.nodes.length + this.proxies.length;
    const nginx = new Nginx(
      port,
      indexes.map((i) => this.basePort + 1 + i),
    );
    this.proxies.push(nginx);
    await nginx.start();
    return nginx;
  }

  /** Stops the proxies, then the nodes, then Redis (also after a failed start). */
  async stop(): Promise<void> {
    for (const proxy of this.proxies) await proxy.stop();
    for (const node of this.nodes) await node.stop();
    await this.redis.stop();
  }
}
