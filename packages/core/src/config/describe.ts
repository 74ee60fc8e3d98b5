// How config problems name a key path and the value found there.

const SECRET_KEY = /(passphrase|password|secret|token|key|cert|pfx)$/i;

/** The value found, for a message: never what may be a secret (values under secret-like keys, the
 *  userinfo of URLs), and long strings cut. */
export function describe(v: unknown, path = ''): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (SECRET_KEY.test(path)) return `a ${typeof v} (value not shown)`;
  if (typeof v === 'string') {
    const safe = v.replace(/\/\/[^/@\s]*@/g, '//***@');
    return JSON.stringify(safe.length > 40 ? safe.slice(0, 40) + '…' : safe);
  }
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

/** `servers[0].routes` + `1` → `servers[0].routes[1]`; `limits` + `maxBodySize` → `limits.maxBodySize`. */
export function join(path: string, key: string | number): string {
  return typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;
}

/** `a`, `b` and `c` → `a, b or c`. */
export function alternatives(items: readonly string[]): string {
  return items.length < 2 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)!}`;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
