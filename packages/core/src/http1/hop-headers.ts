// Hop-by-hop fields (RFC 9110 §7.6.1) are consumed by each hop and never forwarded, in either
// direction, and neither is any field the `Connection` header nominates. Proxy-Authorization and
// Proxy-Authenticate belong to a forward proxy's client and are dropped too (stricter than nginx).

import { sameName } from './head-scan.js';

const HOP_BY_HOP = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'te',
  'transfer-encoding',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
  'http2-settings',
]);

export function isHopByHop(lowerName: string): boolean {
  return HOP_BY_HOP.has(lowerName);
}

/** isHopByHop for a name in any case, without making a lower-case copy (the response path, per field). */
export function isHopByHopName(name: string): boolean {
  switch (name.length) {
    case 2:
      return sameName(name, 0, 'te');
    case 7:
      return sameName(name, 0, 'upgrade');
    case 10:
      return sameName(name, 0, 'connection') || sameName(name, 0, 'keep-alive');
    case 14:
      return sameName(name, 0, 'http2-settings');
    case 16:
      return sameName(name, 0, 'proxy-connection');
    case 17:
      return sameName(name, 0, 'transfer-encoding');
    case 18:
      return sameName(name, 0, 'proxy-authenticate');
    case 19:
      return sameName(name, 0, 'proxy-authorization');
    default:
      return false;
  }
}

const EMPTY: ReadonlySet<string> = new Set();

/** Field names nominated by Connection header values (lower-cased); empty set in the common case. */
export function nominatedFields(connection: string | string[] | undefined): ReadonlySet<string> {
  if (connection === undefined) return EMPTY;
  const value = typeof connection === 'string' ? connection : connection.join(',');
  // Fast path for the usual values.
  const lower = value.toLowerCase();
  if (lower === 'keep-alive' || lower === 'close' || lower === 'upgrade') return EMPTY;
  const out = new Set<string>();
  for (const token of lower.split(',')) {
    const t = token.trim();
    if (t && t !== 'keep-alive' && t !== 'close' && t !== 'upgrade') out.add(t);
  }
  return out;
}
