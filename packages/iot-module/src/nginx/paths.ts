// File arguments: nginx resolves relative paths against the configuration's directory, and accepts
// `data:` for inline PEM (ssl_certificate, since nginx 1.15.10).
import { isAbsolute, resolve } from 'node:path';

export type FileRef = { file: string } | { inline: string };

export function fileRef(value: string, confDir: string): FileRef {
  if (value.startsWith('data:')) return { inline: value.slice(5) };
  return { file: isAbsolute(value) ? value : resolve(confDir, value) };
}
