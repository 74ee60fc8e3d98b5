// The twin's desired `proxy_config`: base64 of the template (the Rust module's format) or base64 of
// its gzip (so the default template fits IoT Hub's 4 KB twin value limit); `null` reverts to the
// default template. Decoding is strict: standard-alphabet base64 only, valid UTF-8, bounded size.
import { gunzipSync, gzipSync } from 'node:zlib';

/** Largest template accepted (after gunzip). */
const MAX_TEMPLATE_BYTES = 1 << 20;

export class ProxyConfigValueError extends Error {
  constructor(message: string) {
    super(`proxy_config: ${message}`);
    this.name = 'ProxyConfigValueError';
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The template text, or `null` for "use the default template". */
export function decodeProxyConfig(value: unknown): string | null {
  if (value === null) return null;
  if (typeof value !== 'string')
    throw new ProxyConfigValueError(`expected a base64 string or null, got ${typeof value}`);
  if (value.length === 0)
    throw new ProxyConfigValueError('empty string (use null to revert to the default template)');
  if (!BASE64.test(value))
    throw new ProxyConfigValueError('not valid base64 (standard alphabet, padded, no whitespace)');
  let bytes = Buffer.from(value, 'base64');
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: MAX_TEMPLATE_BYTES });
    } catch (err) {
      throw new ProxyConfigValueError(`gzip data cannot be read: ${(err as Error).message}`);
    }
  }
  if (bytes.length > MAX_TEMPLATE_BYTES)
    throw new ProxyConfigValueError(`template over ${MAX_TEMPLATE_BYTES} bytes`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ProxyConfigValueError('the template is not valid UTF-8');
  }
}

/** The value to put in the twin for `template`: gzip+base64 (what `iot-module encode` prints). */
export function encodeProxyConfig(template: string, gzip = true): string {
  const bytes = Buffer.from(template, 'utf8');
  return (gzip ? gzipSync(bytes, { level: 9 }) : bytes).toString('base64');
}
