// The port the gateway listens on, by the rule the entrypoint and the health check share:
// EDGEMICRO_PORT, else `edgemicro.port` in the source config, else edgemicro's default 8000.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { optional, port } from '../common/env.mjs';

export const DEFAULT_ROOT = '/opt/apigee';

export function containerRoot(env) {
  return optional(env, 'GATEHOUSE_CONTAINER_ROOT') ?? DEFAULT_ROOT;
}

export function configDir(env) {
  return optional(env, 'EDGEMICRO_CONFIG_DIR') ?? join(containerRoot(env), '.edgemicro');
}

export function sourceConfigPath(env, org, environment) {
  return join(configDir(env), `${org}-${environment}-config.yaml`);
}

export function listenPort(env) {
  const fromEnv = port(env, 'EDGEMICRO_PORT');
  if (fromEnv !== undefined) return fromEnv;
  const org = optional(env, 'EDGEMICRO_ORG');
  const environment = optional(env, 'EDGEMICRO_ENV');
  if (org && environment) {
    try {
      const fromFile = portInYaml(readFileSync(sourceConfigPath(env, org, environment), 'utf8'));
      if (fromFile !== undefined) return fromFile;
    } catch {
      // No readable config: the default applies.
    }
  }
  return 8000;
}

/**
 * `edgemicro.port` from a config file without a YAML library: the first `port:` one level below a
 * top-level `edgemicro:` key. Good enough for a health check; the gateway itself parses properly.
 */
export function portInYaml(text) {
  let inside = false;
  let childIndent;
  for (const line of text.split(/\r?\n/)) {
    if (/^\s*(#|$)/.test(line)) continue;
    const indent = line.length - line.trimStart().length;
    if (indent === 0) {
      inside = /^edgemicro:\s*(#.*)?$/.test(line);
      childIndent = undefined;
      continue;
    }
    if (!inside) continue;
    childIndent ??= indent;
    if (indent !== childIndent) continue;
    const match = /^\s+port:\s*['"]?([0-9]{1,5})['"]?\s*(#.*)?$/.exec(line);
    if (match) return Number(match[1]);
  }
  return undefined;
}
