// What only the gateway's tests need (the rest is in /test/helpers): config directories and files,
// custom plugin directories, an upstream naming itself in its echo, the gateway in-process (source +
// engine, as a worker builds it) and the `edgemicro` CLI as a process.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Gatehouse } from '@gatehouse/core';
import { runToExit, spawnWatched, type WatchedProcess } from '../../../test/helpers/cli.js';
import { startEchoUpstream } from '../../../test/helpers/engine.js';
import { GatewaySource, type GatewaySourceOptions } from '../src/control-plane/gateway-source.js';
import { buildGatewayEngine } from '../src/runtime/build-engine.js';

export const MAIN = resolve(import.meta.dirname, '../src/cli/main.ts');

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

/** The suite's echo upstream answering 200 with JSON {name, url, headers}: which target a request
 *  reached, and what it received. */
export async function startUpstream(name: string): Promise<Upstream> {
  const echo = await startEchoUpstream((req, res) => {
    const body = JSON.stringify({ name, url: req.url, headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    return true;
  });
  echo.server.keepAliveTimeout = 30_000;
  return {
    port: echo.port,
    url: `${echo.url}/`,
    get requests() {
      return echo.requests.length;
    },
    close: echo.close,
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

/** Run `edgemicro <args>` from source in `cwd` (key and secret from the environment blanked). */
export function runCli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): WatchedProcess {
  return spawnWatched(MAIN, args, { cwd, env: { EDGEMICRO_KEY: '', EDGEMICRO_SECRET: '', ...env } });
}

/** Run a CLI command to completion; resolves its exit code and output. */
export function cli(
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; out: string }> {
  return runToExit(MAIN, args, { cwd, env: { EDGEMICRO_KEY: '', EDGEMICRO_SECRET: '', ...env } });
}

/** An edgemicro custom plugin directory entry: `<dir>/<name>/{package.json,index.js}`. */
export function writePlugin(dir: string, name: string, indexJs: string): void {
  mkdirSync(join(dir, name), { recursive: true });
  writeFileSync(join(dir, name, 'package.json'), JSON.stringify({ name }));
  writeFileSync(join(dir, name, 'index.js'), indexJs);
}

const EDGE_KEYS = ['bootstrap', 'jwt_public_key', 'products', 'jwk_public_keys'] as const;

/** A config file: `edge_config` with the Edge emulator's URLs for `keys` (default bootstrap,
 *  jwt_public_key and products), then `lines`. */
export function edgeConfigYaml(
  urls: Readonly<Record<(typeof EDGE_KEYS)[number], string>>,
  lines: readonly string[],
  keys: ReadonlyArray<(typeof EDGE_KEYS)[number]> = ['bootstrap', 'jwt_public_key', 'products'],
): string {
  return ['edge_config:', ...keys.map((k) => `  ${k}: ${urls[k]}`), ...lines, ''].join('\n');
}
