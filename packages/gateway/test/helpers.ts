// Test helpers for the gateway: config directories in temp dirs, an upstream that echoes what it
// received, the gateway in-process (source + engine, as a worker builds it) and the CLI as a process.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Gatehouse } from '@gatehouse/core';
import { GatewaySource, type GatewaySourceOptions } from '../src/control-plane/gateway-source.js';
import { buildGatewayEngine } from '../src/runtime/build-engine.js';

export const MAIN = resolve(import.meta.dirname, '../src/cli/main.ts');
const TSX = import.meta.resolve('tsx');

export function tempDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'gh-gateway-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function writeConfig(dir: string, org: string, env: string, yaml: string): string {
  const file = join(dir, `${org}-${env}-config.yaml`);
  writeFileSync(file, yaml);
  return file;
}

export interface Upstream {
  port: number;
  url: string;
  requests: number;
  close(): Promise<void>;
}

/** Answers 200 with JSON {name, url, headers}. */
export async function startUpstream(name: string): Promise<Upstream> {
  const up = {
    requests: 0,
    server: http.createServer((req, res) => {
      up.requests++;
      req.resume();
      req.on('end', () => {
        const body = JSON.stringify({ name, url: req.url, headers: req.headers });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
    }),
  };
  up.server.keepAliveTimeout = 30_000;
  up.server.listen(0, '127.0.0.1');
  await once(up.server, 'listening');
  const port = (up.server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}/`,
    get requests() {
      return up.requests;
    },
    close: () =>
      new Promise<void>((r) => {
        up.server.closeAllConnections();
        up.server.close(() => r());
      }),
  };
}

export interface InProcessGateway {
  source: GatewaySource;
  engine: Gatehouse;
  base: string;
  close(): Promise<void>;
}

/** The gateway as one worker runs it, in this process, on an ephemeral port. */
export async function startInProcess(options: Omit<GatewaySourceOptions, 'port'>): Promise<InProcessGateway> {
  const source = await GatewaySource.open({ ...options, port: 0 });
  const engine = await buildGatewayEngine(source.compile(), options.cwd);
  await engine.start();
  const port = engine.addresses()[0]!.port;
  return { source, engine, base: `http://127.0.0.1:${port}`, close: () => engine.close(200) };
}

export interface CliProcess {
  child: ChildProcess;
  output(): string;
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<number | null>;
}

/** Run `edgemicro <args>` from source in `cwd`. */
export function runCli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): CliProcess {
  const child = spawn(process.execPath, ['--conditions=source', '--import', TSX, MAIN, ...args], {
    cwd,
    env: { ...process.env, EDGEMICRO_KEY: '', EDGEMICRO_SECRET: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters: Array<() => void> = [];
  const onData = (c: Buffer): void => {
    out += c.toString();
    for (const w of waiters.splice(0)) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    output: () => out,
    exited,
    waitFor(re, timeoutMs = 30_000) {
      return new Promise((resolvePromise, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${re} in:\n${out}`)),
          timeoutMs,
        );
        const check = (): void => {
          const m = re.exec(out);
          if (m) {
            clearTimeout(timer);
            return resolvePromise(m[0]);
          }
          waiters.push(check);
        };
        void exited.then(() => {
          if (!re.test(out)) {
            clearTimeout(timer);
            reject(new Error(`exited before ${re}:\n${out}`));
          }
        });
        check();
      });
    },
  };
}

/** Run a CLI command to completion; resolves its exit code and output. */
export async function cli(
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; out: string }> {
  const p = runCli(args, cwd, env);
  const code = await p.exited;
  return { code, out: p.output() };
}

/** A free TCP port on 127.0.0.1 (bound and released). */
export async function freePort(): Promise<number> {
  const s = http.createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}
