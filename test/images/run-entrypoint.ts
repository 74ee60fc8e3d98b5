// Runs an image's entrypoint on this host as the image would, with the container root moved to a
// temporary directory (GATEHOUSE_CONTAINER_ROOT) and only the environment the test gives it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REPO = join(import.meta.dirname, '..', '..');
export const GATEWAY_ENTRYPOINT = join(REPO, 'docker/gateway/entrypoint.mjs');
export const IOT_ENTRYPOINT = join(REPO, 'docker/iot-module/entrypoint.mjs');

export interface DryRun {
  status: number | null;
  stdout: string;
  stderr: string;
  /** The parsed plan when the entrypoint printed one. */
  plan?: {
    command: string[];
    cwd: string;
    env: Record<string, string>;
    logFile?: string | null;
    stopDelaySeconds?: number;
  };
}

export function tempRoot(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `gatehouse-${prefix}-`));
}

/** One dry run of `entrypoint` with `env` (plus PATH) and the root at `root`. */
export function dryRun(
  entrypoint: string,
  root: string,
  appDir: string,
  env: Record<string, string>,
): DryRun {
  const result = spawnSync(process.execPath, [entrypoint], {
    encoding: 'utf8',
    timeout: 10_000,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      GATEHOUSE_CONTAINER_ROOT: root,
      GATEHOUSE_APP_DIR: appDir,
      GATEHOUSE_ENTRYPOINT_DRY_RUN: '1',
      ...env,
    },
  });
  const out: DryRun = { status: result.status, stdout: result.stdout, stderr: result.stderr };
  if (result.status === 0) out.plan = JSON.parse(result.stdout) as DryRun['plan'];
  return out;
}
