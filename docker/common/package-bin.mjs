// Finds a workspace package's command by its package.json `bin` entry, so the entrypoints do not
// hard-code where the build put the CLI.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EntrypointError } from './env.mjs';

export function packageBin(packageDir, command) {
  const manifestPath = join(packageDir, 'package.json');
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (err) {
    throw new EntrypointError(`cannot read ${manifestPath}: ${err.code ?? err.message}`);
  }
  const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin?.[command];
  if (typeof bin !== 'string') {
    throw new EntrypointError(
      `${manifestPath} has no "${command}" command in "bin" (this build has no ${command} CLI)`,
    );
  }
  return resolve(packageDir, bin);
}

/** packageBin, except that a dry run shows what is missing instead of stopping on it. */
export function cliPath(packageDir, command) {
  if (process.env.GATEHOUSE_ENTRYPOINT_DRY_RUN !== '1') return packageBin(packageDir, command);
  try {
    return packageBin(packageDir, command);
  } catch (err) {
    return `<${err.message}>`;
  }
}
