// Where edgemicro keeps its files (reference §1.1): the config directory from `-c`,
// EDGEMICRO_CONFIG_DIR or ~/.edgemicro; source and cache files named after org and env; the control
// socket and pid file in the working directory.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export function configDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(flag ?? env.EDGEMICRO_CONFIG_DIR ?? join(homedir(), '.edgemicro'));
}

export function sourceConfigPath(dir: string, org: string, env: string): string {
  return join(dir, `${org}-${env}-config.yaml`);
}

export function cacheConfigPath(dir: string, org: string, env: string): string {
  return join(dir, `${org}-${env}-cache-config.yaml`);
}

export function socketPath(cwd = process.cwd()): string {
  return join(cwd, 'edgemicro.sock');
}

export function pidPath(cwd = process.cwd()): string {
  return join(cwd, 'edgemicro.pid');
}
