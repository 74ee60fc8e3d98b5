#!/usr/bin/env node
// The gateway image's entrypoint: turns the Edge Microgateway container environment (EDGEMICRO_*,
// SERVICE_NAME, CONTAINER_PORT, LOG_CONSOLE_OUTPUT_TO_FILE, …) into an `edgemicro start` and
// supervises it. Key and secret reach the CLI through its environment, never its argv.
// GATEHOUSE_ENTRYPOINT_DRY_RUN=1 prepares everything, prints the command as JSON and exits.
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { base64, EntrypointError, integer, optional, port, printable } from '../common/env.mjs';
import { cliPath } from '../common/package-bin.mjs';
import { note, supervise } from '../common/supervise.mjs';
import { configDir, containerRoot, sourceConfigPath } from './config-port.mjs';

const NAME = 'entrypoint';
const DEFAULT_APP_DIR = '/usr/local/lib/gatehouse/edgemicro';
const SECRET_NAMES = new Set([
  'EDGEMICRO_KEY',
  'EDGEMICRO_SECRET',
  'EDGEMICRO_CONFIG',
  'EDGEMICRO_REDIS_PASSWORD',
]);
// What the dry run shows of the environment the CLI gets (with secrets redacted).
const SHOWN_NAMES = [
  'EDGEMICRO_KEY',
  'EDGEMICRO_SECRET',
  'EDGEMICRO_CONFIG',
  'EDGEMICRO_CONFIG_DIR',
  'EDGEMICRO_LOCAL_PROXY',
  'EDGEMICRO_DECORATOR',
  'EDGEMICRO_LOCAL',
  'DEBUG',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'NODE_EXTRA_CA_CERTS',
  'NODE_TLS_REJECT_UNAUTHORIZED',
];

/** Everything `edgemicro start` needs, from the container environment; throws EntrypointError. */
export function plan(env) {
  const root = containerRoot(env);
  const org = optional(env, 'EDGEMICRO_ORG');
  const environment = optional(env, 'EDGEMICRO_ENV');
  const missing = ['EDGEMICRO_ORG', 'EDGEMICRO_ENV'].filter((n) => optional(env, n) === undefined);
  const local = optional(env, 'EDGEMICRO_LOCAL') === '1';
  if (!local)
    missing.push(...['EDGEMICRO_KEY', 'EDGEMICRO_SECRET'].filter((n) => optional(env, n) === undefined));
  if (missing.length > 0) throw new EntrypointError(`missing ${missing.join(', ')}`);
  for (const [name, value] of [
    ['EDGEMICRO_ORG', org],
    ['EDGEMICRO_ENV', environment],
  ]) {
    // They name a file: no separators, no dot-dot.
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/.test(value) || value.includes('..')) {
      throw new EntrypointError(`${name} "${printable(value)}" is not an organization or environment name`);
    }
  }

  const warnings = [];
  const childEnv = { ...env };
  delete childEnv.EDGEMICRO_CONFIG; // decoded into a file below; no need to carry it further
  const argv = ['start', '-o', org, '-e', environment, '-c', configDir(env)];

  let config;
  const encoded = optional(env, 'EDGEMICRO_CONFIG');
  if (encoded !== undefined) {
    const bytes = base64('EDGEMICRO_CONFIG', encoded);
    try {
      config = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new EntrypointError(
        'EDGEMICRO_CONFIG decodes to bytes that are not UTF-8 text (is it the base64 of the YAML file?)',
      );
    }
  }

  const pluginDir = optional(env, 'EDGEMICRO_PLUGIN_DIR') ?? join(root, 'plugins');
  if (optional(env, 'EDGEMICRO_PLUGIN_DIR') !== undefined && !isDirectory(pluginDir)) {
    throw new EntrypointError(`EDGEMICRO_PLUGIN_DIR ${pluginDir} is not a directory`);
  }
  argv.push('-d', pluginDir);

  // Unlike edgemicro's entrypoint (issue #291), the port holds with EDGEMICRO_PROCESSES too, and
  // without EDGEMICRO_PORT the config file's edgemicro.port is left to decide.
  const listen = port(env, 'EDGEMICRO_PORT');
  if (listen !== undefined) argv.push('-r', String(listen));
  const processes = integer(env, 'EDGEMICRO_PROCESSES', 1, 1024);
  if (processes !== undefined) argv.push('-p', String(processes));
  if (optional(env, 'EDGEMICRO_PROCESS') !== undefined && processes === undefined) {
    warnings.push('EDGEMICRO_PROCESS is not a setting (the documented name is EDGEMICRO_PROCESSES); ignored');
  }

  if (optional(env, 'EDGEMICRO_LOCAL_PROXY') !== undefined) {
    if (local) throw new EntrypointError('EDGEMICRO_LOCAL and EDGEMICRO_LOCAL_PROXY cannot both be set');
    const service = serviceName(env);
    const variable = `${service.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_SERVICE_PORT_HTTP`;
    const target =
      optional(env, 'CONTAINER_PORT') !== undefined ? port(env, 'CONTAINER_PORT') : port(env, variable);
    if (target === undefined) {
      throw new EntrypointError(
        `EDGEMICRO_LOCAL_PROXY needs the port of the service it fronts: set CONTAINER_PORT (or ${variable})`,
      );
    }
    childEnv.EDGEMICRO_DECORATOR = '1';
    argv.push('-a', `edgemicro_${service}`, '-v', '1', '-b', '/', '-t', `http://localhost:${target}`);
  }

  const ca = optional(env, 'NODE_EXTRA_CA_CERTS');
  if (ca !== undefined) {
    try {
      readFileSync(ca);
    } catch (err) {
      throw new EntrypointError(`NODE_EXTRA_CA_CERTS ${ca} cannot be read: ${err.code ?? err.message}`);
    }
  }
  if (env.NODE_TLS_REJECT_UNAUTHORIZED === '0') {
    warnings.push('NODE_TLS_REJECT_UNAUTHORIZED=0: certificates of Edge and of targets are not verified');
  }

  const logToFile = !/^false$/i.test(env.LOG_CONSOLE_OUTPUT_TO_FILE ?? '');
  return {
    root,
    appDir: optional(env, 'GATEHOUSE_APP_DIR') ?? DEFAULT_APP_DIR,
    argv,
    env: childEnv,
    config:
      config === undefined ? undefined : { path: sourceConfigPath(env, org, environment), text: config },
    logFile: logToFile ? join(root, 'logs', 'edgemicro.log') : undefined,
    stopDelaySeconds: stopDelay(env, warnings),
    warnings,
  };
}

/**
 * SERVICE_NAME as the seed documents it: the given name, else (Kubernetes) the pod name up to its
 * first '-', else "default". edgemicro's script replaces a given name by "default"; we do not.
 */
function serviceName(env) {
  const given = optional(env, 'SERVICE_NAME') ?? optional(env, 'POD_NAME')?.split('-')[0] ?? 'default';
  if (!/^[A-Za-z0-9_.-]{1,63}$/.test(given)) {
    throw new EntrypointError(`SERVICE_NAME "${printable(given)}" must be letters, digits, '.', '_' or '-'`);
  }
  return given;
}

/** EDGEMICRO_STOP_DELAY: seconds from 1 to 1800; any other value means 5, as in edgemicro. */
function stopDelay(env, warnings) {
  const value = optional(env, 'EDGEMICRO_STOP_DELAY');
  if (value === undefined) return 0;
  if (/^[0-9]{1,4}$/.test(value) && Number(value) >= 1 && Number(value) <= 1800) return Number(value);
  warnings.push(`EDGEMICRO_STOP_DELAY "${printable(value)}" is outside 1-1800 seconds; using 5`);
  return 5;
}

function isDirectory(path) {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Writes the decoded config, readable by its owner only. With $HOME/.edgemicro mounted (the TLS
 * examples), the file is often there already with the same text and owned by the host user: then
 * there is nothing to write, and a different file we may not write is an error that says so.
 */
function writeConfig(config) {
  try {
    if (readFileSync(config.path, 'utf8') === config.text) {
      note(NAME, `EDGEMICRO_CONFIG matches ${config.path}`);
      return;
    }
  } catch {
    // Not there or not readable: write it.
  }
  try {
    mkdirSync(dirname(config.path), { recursive: true });
    writeFileSync(config.path, config.text, { mode: 0o600 });
  } catch (err) {
    throw new EntrypointError(
      `cannot write EDGEMICRO_CONFIG to ${config.path}: ${err.code ?? err.message} (a mounted directory must be writable by uid ${process.getuid?.()})`,
    );
  }
  note(NAME, `EDGEMICRO_CONFIG decoded to ${config.path}`);
}

function redacted(env) {
  const shown = {};
  for (const name of SHOWN_NAMES) {
    if (env[name] === undefined) continue;
    shown[name] = SECRET_NAMES.has(name) ? '<redacted>' : env[name];
  }
  return shown;
}

async function main() {
  let p;
  let command;
  try {
    p = plan(process.env);
    if (p.config) writeConfig(p.config);
    command = [process.execPath, cliPath(p.appDir, 'edgemicro'), ...p.argv];
  } catch (err) {
    if (!(err instanceof EntrypointError)) throw err;
    note(NAME, `error: ${err.message}`);
    return 1;
  }
  for (const warning of p.warnings) note(NAME, `warning: ${warning}`);
  if (process.env.GATEHOUSE_ENTRYPOINT_DRY_RUN === '1') {
    const shown = {
      command,
      cwd: p.root,
      env: redacted(p.env),
      logFile: p.logFile ?? null,
      stopDelaySeconds: p.stopDelaySeconds,
    };
    process.stdout.write(`${JSON.stringify(shown)}\n`);
    return 0;
  }
  if (!existsSync(command[1])) {
    note(NAME, `error: the edgemicro CLI ${command[1]} is missing from this build`);
    return 1;
  }
  // The container is the only instance: a socket or pid file left by the previous run of this
  // container (docker stop, docker start) would make `edgemicro start` refuse to run.
  for (const leftover of ['edgemicro.sock', 'edgemicro.pid']) rmSync(join(p.root, leftover), { force: true });
  note(NAME, `console output: ${p.logFile ?? 'stdout only (LOG_CONSOLE_OUTPUT_TO_FILE=false)'}`);
  if (p.stopDelaySeconds > 0) note(NAME, `SIGTERM delay: ${p.stopDelaySeconds} s`);
  return supervise({
    argv: command,
    env: p.env,
    cwd: p.root,
    logFile: p.logFile,
    stopDelaySeconds: p.stopDelaySeconds,
    name: NAME,
  });
}

process.exitCode = await main();
