#!/usr/bin/env node
// The IoT Edge API proxy image's entrypoint: checks the environment edgeAgent gives every module
// (IOTEDGE_*), then runs `iot-module run` in /app and supervises it. Missing or malformed values
// stop the container here with their names, rather than deep inside the module.
// GATEHOUSE_ENTRYPOINT_DRY_RUN=1 prints the command as JSON and exits.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EntrypointError, optional, port, printable } from '../common/env.mjs';
import { cliPath } from '../common/package-bin.mjs';
import { note, supervise } from '../common/supervise.mjs';

const NAME = 'entrypoint';
const DEFAULT_ROOT = '/app';
const DEFAULT_APP_DIR = '/usr/local/lib/gatehouse/iot-module';
const TEMPLATE = 'nginx_default_config.conf';
// Set by edgeAgent for every module; the Rust module exits without them too.
const REQUIRED = [
  'IOTEDGE_WORKLOADURI',
  'IOTEDGE_MODULEID',
  'IOTEDGE_MODULEGENERATIONID',
  'IOTEDGE_DEVICEID',
  'IOTEDGE_IOTHUBHOSTNAME',
  'IOTEDGE_GATEWAYHOSTNAME',
];
const SHOWN_NAMES = [
  ...REQUIRED,
  'IOTEDGE_PARENTHOSTNAME',
  'IOTEDGE_APIVERSION',
  'IOTEDGE_AUTHSCHEME',
  'NGINX_DEFAULT_PORT',
  'DOCKER_REQUEST_ROUTE_ADDRESS',
  'BLOB_UPLOAD_ROUTE_ADDRESS',
];

export function plan(env) {
  const missing = REQUIRED.filter((name) => optional(env, name) === undefined);
  if (missing.length > 0) {
    throw new EntrypointError(
      `missing ${missing.join(', ')} (edgeAgent sets them for every module; outside IoT Edge, set them yourself)`,
    );
  }
  const workload = env.IOTEDGE_WORKLOADURI;
  if (!/^(unix:\/\/\/.+|http:\/\/[^/\s]+\/?)$/.test(workload)) {
    throw new EntrypointError(
      `IOTEDGE_WORKLOADURI "${printable(workload)}" must be unix:///path or http://host:port`,
    );
  }
  const scheme = optional(env, 'IOTEDGE_AUTHSCHEME');
  if (scheme !== undefined && scheme !== 'sasToken') {
    throw new EntrypointError(`IOTEDGE_AUTHSCHEME "${printable(scheme)}" is not supported (only sasToken)`);
  }
  for (const name of ['IOTEDGE_MODULEID', 'IOTEDGE_DEVICEID']) {
    if (!/^[A-Za-z0-9\-:.+%_#*?!(),=@;$']{1,128}$/.test(env[name])) {
      throw new EntrypointError(`${name} "${printable(env[name])}" is not an IoT Hub identity`);
    }
  }
  port(env, 'NGINX_DEFAULT_PORT');
  const root = optional(env, 'GATEHOUSE_CONTAINER_ROOT') ?? DEFAULT_ROOT;
  const argv = ['run', '--conf-dir', root];
  // The image keeps the default template in /app, where a derived image may replace it.
  const template = join(root, TEMPLATE);
  if (existsSync(template)) argv.push('--template', template);
  return { root, appDir: optional(env, 'GATEHOUSE_APP_DIR') ?? DEFAULT_APP_DIR, argv, env: { ...env } };
}

/**
 * The image's copy of node that may bind ports below 1024 (file capability, see the Dockerfile),
 * when this container can grant that capability; plain node otherwise. Under --cap-drop=ALL the
 * kernel refuses to exec a binary whose capability it cannot grant, and under no-new-privileges
 * the capability is not granted: then plain node runs, and a port below 1024 needs the engine's
 * net.ipv4.ip_unprivileged_port_start=0 (Docker's default since 20.10).
 */
function moduleNode(env) {
  const capable = optional(env, 'GATEHOUSE_MODULE_NODE');
  if (capable === undefined) return process.execPath;
  let status;
  try {
    status = readFileSync('/proc/self/status', 'utf8');
  } catch {
    return process.execPath;
  }
  const bounding = /^CapBnd:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  const noNewPrivs = /^NoNewPrivs:\s*1$/m.test(status);
  const CAP_NET_BIND_SERVICE = 10n;
  const canGrant = bounding !== undefined && ((BigInt(`0x${bounding}`) >> CAP_NET_BIND_SERVICE) & 1n) === 1n;
  return canGrant && !noNewPrivs ? capable : process.execPath;
}

async function main() {
  let p;
  let command;
  try {
    p = plan(process.env);
    const node = moduleNode(process.env);
    command = [node, cliPath(p.appDir, 'iot-module'), ...p.argv];
  } catch (err) {
    if (!(err instanceof EntrypointError)) throw err;
    note(NAME, `error: ${err.message}`);
    return 1;
  }
  if (process.env.GATEHOUSE_ENTRYPOINT_DRY_RUN === '1') {
    const env = {};
    for (const name of SHOWN_NAMES) if (p.env[name] !== undefined) env[name] = p.env[name];
    process.stdout.write(`${JSON.stringify({ command, cwd: p.root, env })}\n`);
    return 0;
  }
  if (!existsSync(command[1])) {
    note(NAME, `error: the iot-module CLI ${command[1]} is missing from this build`);
    return 1;
  }
  return supervise({ argv: command, env: p.env, cwd: p.root, stopDelaySeconds: 0, name: NAME });
}

process.exitCode = await main();
