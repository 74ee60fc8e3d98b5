// The default proxy-config template shipped with the package (the module's built-in config).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Absolute path of `templates/nginx_default_config.conf` (same place from `src/` and `dist/`). */
export const DEFAULT_TEMPLATE_PATH = fileURLToPath(
  new URL('../../templates/nginx_default_config.conf', import.meta.url),
);

export function readDefaultTemplate(): string {
  return readFileSync(DEFAULT_TEMPLATE_PATH, 'utf8');
}
