#!/usr/bin/env node
// `edgemicro`: the command line of Apigee Edge Microgateway, on Gatehouse. start/stop/reload/status,
// init, verify, token, check, --version; the Apigee management commands say what to do instead. Bad
// input is one line on stderr and exit 1, never a stack trace.
import cluster from 'node:cluster';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EdgemicroConfigError } from '../config/errors.js';
import { configDir, sourceConfigPath } from '../config/locations.js';
import { GatewaySource, type GatewaySourceOptions } from '../control-plane/gateway-source.js';
import type { GatewayMode } from '../runtime/runtime-data.js';
import { parseArgs, START_OPTIONS, UsageError } from './args.js';

const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const USAGE = `usage: edgemicro <command> [options]
  start     -o org -e env [-k key -s secret] [-p processes] [-r port] [-c configDir] [-u configUrl]
            [-d pluginDir] [-a proxyName -v revision -b basePath -t targetUrl] [--standalone file]
  stop | reload | status          control the gateway started in this directory (edgemicro.sock)
  check     -o org -e env [-c configDir] [--standalone file]   validate and print the resolved proxies
  init      [-c configDir]        write default.yaml
  verify    -o org -e env [-k key -s secret] [-c configDir]    check the Edge control-plane URLs
  token     decode -f file | verify -f file -o org -e env | get -o org -e env -i id -s secret
  --version
Key and secret may come from EDGEMICRO_KEY / EDGEMICRO_SECRET instead of -k / -s.`;

const MANAGEMENT: Record<string, string> = {
  configure:
    'needs the Apigee management API. Write <configDir>/<org>-<env>-config.yaml yourself (edgemicro init gives the shape), or run without Apigee: edgemicro start --standalone <file>',
  private:
    'needs the Apigee management API (private cloud). Configure Edge with Apigee tools, then write the config file',
  genkeys:
    'needs the Apigee management API. Create the key and secret with Apigee tools and pass them with EDGEMICRO_KEY/EDGEMICRO_SECRET',
  revokekeys: 'needs the Apigee management API. Revoke the key with Apigee tools',
  cert: 'needs the Apigee management API. Manage the KVM certificate with Apigee tools; edgemicro verify checks the public key URL',
  upgradekvm: 'needs the Apigee management API. Upgrade the KVM with Apigee tools',
  upgradeauth: 'needs the Apigee management API. Redeploy edgemicro-auth with Apigee tools',
  rotatekey:
    'needs the Apigee management API. Rotate the key with Apigee tools; a running gateway picks up jwk_public_keys at its next poll',
  clean: 'is not implemented by edgemicro either',
  forever: 'was removed from edgemicro in 3.3.3; run edgemicro start under your process manager',
};

function fail(message: string): number {
  console.error(message.startsWith('edgemicro') ? message : `edgemicro: ${message}`);
  return 1;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')) as { version: string };
  return `current nodejs version is ${process.version}\ncurrent edgemicro version is ${pkg.version} (Gatehouse)`;
}

function modeOf(values: Record<string, string | true>, env: NodeJS.ProcessEnv): GatewayMode {
  const standalone = values.standalone ?? env.EDGEMICRO_STANDALONE;
  const local = env.EDGEMICRO_LOCAL === '1';
  const localProxy = env.EDGEMICRO_LOCAL_PROXY === '1';
  if (local && localProxy)
    throw new UsageError('EDGEMICRO_LOCAL and EDGEMICRO_LOCAL_PROXY cannot both be set');
  if (standalone && (local || localProxy))
    throw new UsageError('--standalone cannot be combined with EDGEMICRO_LOCAL or EDGEMICRO_LOCAL_PROXY');
  if (standalone) return 'standalone';
  if (local) return 'local';
  if (localProxy) return 'local-proxy';
  return 'edge';
}

function str(v: string | true | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Source options from start/check/reload flags and the environment. */
function sourceOptions(
  values: Record<string, string | true>,
  env: NodeJS.ProcessEnv,
  cwd: string,
): GatewaySourceOptions {
  const mode = modeOf(values, env);
  const org = str(values.org) ?? env.EDGEMICRO_ORG;
  const envName = str(values.env) ?? env.EDGEMICRO_ENV;
  if (!org) throw new UsageError('missing org: give -o org (or EDGEMICRO_ORG)');
  if (!envName) throw new UsageError('missing env: give -e env (or EDGEMICRO_ENV)');
  let key = str(values.key) ?? env.EDGEMICRO_KEY;
  let secret = str(values.secret) ?? env.EDGEMICRO_SECRET;
  if (mode === 'local') {
    key = 'dummy';
    secret = 'dummy';
  }
  if ((mode === 'edge' || mode === 'local-proxy') && (!key || !secret))
    throw new UsageError('missing key or secret: give -k and -s (or EDGEMICRO_KEY and EDGEMICRO_SECRET)');
  const portText = str(values.port) ?? env.EDGEMICRO_PORT;
  let port: number | undefined;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535)
      throw new UsageError(`-r: invalid port ${JSON.stringify(portText)}`);
    port = Number(portText);
  }
  const standalone = str(values.standalone) ?? env.EDGEMICRO_STANDALONE;
  const pluginDir = str(values.pluginDir) ?? env.EDGEMICRO_PLUGIN_DIR;
  const configUrl = str(values.configUrl) ?? env.EDGEMICRO_CONFIG_URL;
  return {
    mode,
    org,
    env: envName,
    ...(key !== undefined ? { key } : {}),
    ...(secret !== undefined ? { secret } : {}),
    configDir: configDir(str(values.configDir), env),
    ...(configUrl ? { configUrl } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(pluginDir ? { pluginDir: resolve(cwd, pluginDir) } : {}),
    local: {
      ...(str(values.apiProxyName) ? { apiProxyName: str(values.apiProxyName) } : {}),
      ...(str(values.revision) ? { revision: str(values.revision) } : {}),
      ...(str(values.basepath) ? { basePath: str(values.basepath) } : {}),
      ...(str(values.target) ? { target: str(values.target) } : {}),
    },
    ...(standalone ? { standaloneFile: resolve(cwd, standalone) } : {}),
    cwd,
    environment: env,
  };
}

function withLocalEnv(o: GatewaySourceOptions, env: NodeJS.ProcessEnv): GatewaySourceOptions {
  const l = o.local ?? {};
  return {
    ...o,
    local: {
      apiProxyName: l.apiProxyName ?? env.EDGEMICRO_API_PROXYNAME,
      revision: l.revision ?? env.EDGEMICRO_API_REVISION,
      basePath: l.basePath ?? env.EDGEMICRO_API_BASEPATH,
      target: l.target ?? env.EDGEMICRO_API_TARGET,
    },
  };
}

const warnLine = (message: string, fields: Record<string, unknown> = {}): void => {
  console.error(
    JSON.stringify({
      level: 'warn',
      time: Date.now(),
      pid: process.pid,
      role: 'primary',
      ...fields,
      msg: message,
    }),
  );
};

async function start(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positional } = parseArgs(argv, START_OPTIONS);
  if (positional.length) throw new UsageError(`unexpected argument ${positional[0]}`);
  const cwd = process.cwd();
  const options = withLocalEnv(sourceOptions(values, env, cwd), env);
  const { parseWorkerCount } = await import('@gatehouse/core/cluster');
  const processesText = str(values.processes) ?? env.EDGEMICRO_PROCESSES ?? '1';
  const workers = parseWorkerCount(processesText === '0' ? 'auto' : processesText);
  if (workers instanceof Error)
    throw new UsageError(`-p: expected a positive integer or "auto", got ${JSON.stringify(processesText)}`);
  const { claimSocket } = await import('../cluster/control-socket.js');
  const { socketPath } = await import('../config/locations.js');
  await claimSocket(socketPath(cwd));
  const source = await GatewaySource.open({ ...options, warn: warnLine });
  const logging = source.settings.edgemicro.logging;
  let logDestination: NodeJS.WritableStream | undefined;
  if (!logging.to_console && logging.dir) {
    const { RotatingLogFile, rotateMs } = await import('../runtime/rotating-log.js');
    source.logFiles = {
      dir: resolve(cwd, logging.dir),
      id: String(process.pid),
      startedAt: Date.now(),
      rotateMs: rotateMs(logging.rotate_interval),
      mode: logging.disableStrictLogFile ? 0o755 : 0o600,
    };
    logDestination = new RotatingLogFile(source.logFiles, (file) => console.log(`logging to ${file}`));
    // Open the first file now, so that a directory it cannot write is said at start.
    logDestination.write('');
  }
  const { startMaster } = await import('../cluster/master.js');
  await startMaster({
    source,
    workers,
    cwd,
    ...(logDestination ? { logDestination } : {}),
    onStopped: (code) => process.exit(code),
  });
  console.log(
    `edgemicro started: ${workers} worker(s), ${source.edgeData.proxies.length} proxies (${source.origin})`,
  );
  return -1;
}

async function control(command: 'stop' | 'reload' | 'status'): Promise<number> {
  const { sendControl } = await import('../cluster/control-socket.js');
  const { socketPath } = await import('../config/locations.js');
  const reply = await sendControl(socketPath(process.cwd()), command);
  if (!reply.ok) return fail(reply.message);
  console.log(reply.message);
  if (command === 'status') {
    for (const pid of reply.workers ?? []) console.log(`  worker pid ${pid}`);
    for (const p of (reply.proxies as string[] | undefined) ?? []) console.log(`  proxy ${p}`);
  }
  return 0;
}

async function check(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseArgs(argv, START_OPTIONS);
  const options = withLocalEnv(sourceOptions(values, env, process.cwd()), env);
  const source = await GatewaySource.open({ ...options, warn: (m) => console.error(`warning: ${m}`) });
  const config = source.compile();
  const server = config.servers[0]!;
  const l = server.listen[0]!;
  console.log(
    `server edgemicro on ${l.tls ? 'https' : 'http'}://${l.address}:${l.port} (data: ${source.origin})`,
  );
  for (const p of source.edgeData.proxies)
    console.log(`  ${p.name} (rev ${p.revision}) ${p.base_path} -> ${p.url}`);
  if (source.edgeData.proxies.length === 0) console.log('  (no proxies: every request gets 404)');
  const seq = server.routes[0]?.plugins ?? [];
  console.log(`  plugins: ${seq.length ? seq.join(', ') : '(none)'}`);
  console.log(`${source.sourcePath}: configuration is valid`);
  return 0;
}

function init(argv: string[], env: NodeJS.ProcessEnv): number {
  const { values } = parseArgs(argv, [{ short: 'c', long: 'configDir' }]);
  const dir = configDir(str(values.configDir), env);
  mkdirSync(dir, { recursive: true });
  const target = join(dir, 'default.yaml');
  copyFileSync(join(PACKAGE_DIR, 'config', 'default.yaml'), target);
  console.log(`config initialized to ${target}`);
  return 0;
}

async function verify(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseArgs(argv, START_OPTIONS);
  const options = sourceOptions(values, env, process.cwd());
  const { readYamlFile } = await import('../config/yaml-file.js');
  const { replaceEnvTags } = await import('../config/env-tags.js');
  const { redact } = await import('../control-plane/edge-client.js');
  const doc = readYamlFile(sourceConfigPath(options.configDir, options.org, options.env));
  const cfg = replaceEnvTags(doc.value, env).value as Record<string, Record<string, unknown> | undefined>;
  const ec = cfg.edge_config ?? {};
  const basic = `Basic ${Buffer.from(`${options.key ?? ''}:${options.secret ?? ''}`).toString('base64')}`;
  const checks: Array<[string, unknown, boolean]> = [
    ['bootstrap', ec.bootstrap, true],
    ['jwt_public_key', ec.jwt_public_key, false],
    ['products', ec.products, true],
    ['jwk_public_keys', ec.jwk_public_keys, false],
  ];
  let bad = 0;
  for (const [name, url, auth] of checks) {
    if (typeof url !== 'string') {
      if (name !== 'jwk_public_keys') {
        console.log(`${name}: not configured`);
        bad++;
      }
      continue;
    }
    try {
      const res = await fetch(url, {
        headers: auth ? { authorization: basic } : {},
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer();
      console.log(`${name}: ${redact(url)} -> ${res.status}${res.status === 200 ? ' ok' : ''}`);
      if (res.status !== 200) bad++;
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause;
      console.log(`${name}: ${redact(url)} -> ${cause?.code ?? (err as Error).message}`);
      bad++;
    }
  }
  console.log(
    bad ? `verification failed: ${bad} URL(s) not usable` : 'verification complete: every URL answered',
  );
  return bad ? 1 : 0;
}

async function token(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [sub, ...rest] = argv;
  const { tokenCommand } = await import('./token.js');
  return tokenCommand(sub, rest, env);
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case 'start':
        return await start(args, env);
      case 'stop':
      case 'reload':
      case 'status':
        return await control(command);
      case 'check':
        return await check(args, env);
      case 'init':
        return init(args, env);
      case 'verify':
        return await verify(args, env);
      case 'token':
        return await token(args, env);
      case '--version':
      case '-V':
      case 'version':
        console.log(version());
        return 0;
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        console.log(USAGE);
        return command === undefined ? 1 : 0;
      default:
        if (MANAGEMENT[command]) return fail(`${command} ${MANAGEMENT[command]}`);
        return fail(`unknown command "${command}"\n${USAGE}`);
    }
  } catch (err) {
    if (err instanceof EdgemicroConfigError || err instanceof UsageError) return fail(err.message);
    return fail((err as Error)?.message ?? String(err));
  }
}

async function runAsWorker(): Promise<void> {
  const { runGatewayWorker } = await import('../runtime/worker.js');
  await runGatewayWorker();
}

const isEntry =
  process.argv[1] !== undefined && /(?:edgemicro(?:\.js)?|cli[/\\]main\.[jt]s)$/.test(process.argv[1]);
if (isEntry) {
  if (process.env.GATEHOUSE_WORKER === '1' && cluster.isWorker) void runAsWorker();
  else
    void main(process.argv.slice(2)).then((code) => {
      if (code >= 0) process.exit(code);
    });
}
