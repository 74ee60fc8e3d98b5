// Hop-by-hop fields (RFC 9110 §7.6.1) are consumed by each hop and never forwarded, in either
// direction, and neither is any field the `Connection` header nominates. Proxy-Authorization and
// Proxy-Authenticate belong to a forward proxy's client and are dropped too (stricter than nginx).

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
