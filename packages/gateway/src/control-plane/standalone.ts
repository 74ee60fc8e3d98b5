// The standalone file: what Apigee Edge would serve (proxies, products) plus what it keeps to itself
// (apps, API keys, the token-signing key), in one local YAML file, so the gateway runs with no Apigee
// account. Parsed into StandaloneData and fed through the same code paths as Edge's data.
//
//   proxies:   [{ name, base_path, url, revision?, timeout? (ms), max_connections? }]
//   products:  [{ name, apiResources?, proxies, environments?, scopes?, quota?: { allow, interval, timeUnit } }]
//   apps:      [{ name, developer_email, products, credentials: [{ key, secret?, expires_at?, status? }] }]
//   signing:   { private_key_file? | private_key?, kid?, token_lifetime_ms?, issuer? }   (absent: a key is generated)
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { EdgemicroConfigError, type ConfigProblem } from '../config/errors.js';
import { keyLine, readYamlFile } from '../config/yaml-file.js';
import type { EdgeProduct, EdgeProxy, QuotaTimeUnit, StandaloneApp, StandaloneData } from './types.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const TIME_UNITS: QuotaTimeUnit[] = ['minute', 'hour', 'day', 'week', 'month'];

/** Read and check a standalone file; throws EdgemicroConfigError naming every problem. */
export function readStandaloneFile(file: string, maxConnections = 1000): StandaloneData {
  const doc = readYamlFile(file);
  const problems: ConfigProblem[] = [];
  const fail = (path: (string | number)[], message: string): void => {
    problems.push({ key: path.join('.'), message, file, line: keyLine(doc.text, path.map(String)) });
  };
  const top = doc.value;
  for (const k of Object.keys(top))
    if (!['proxies', 'products', 'apps', 'signing'].includes(k))
      fail([k], 'unknown key (supported: proxies, products, apps, signing)');
  const list = (k: string): Obj[] => {
    const v = top[k];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || !v.every(isObj)) {
      fail([k], 'expected a list of mappings');
      return [];
    }
    return v;
  };
  const str = (o: Obj, path: (string | number)[], k: string, required = true): string | undefined => {
    const v = o[k];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'string' || v === '') {
      fail([...path, k], v === undefined ? 'is not defined' : 'expected a non-empty string');
      return undefined;
    }
    return v;
  };
  const strs = (o: Obj, path: (string | number)[], k: string): string[] => {
    const v = o[k];
    if (v === undefined) return [];
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) {
      fail([...path, k], 'expected a list of strings');
      return [];
    }
    return v as string[];
  };
  const unknown = (o: Obj, path: (string | number)[], keys: string[]): void => {
    for (const k of Object.keys(o))
      if (!keys.includes(k)) fail([...path, k], `unknown key (supported: ${keys.join(', ')})`);
  };

  const proxies: EdgeProxy[] = [];
  list('proxies').forEach((p, i) => {
    const path = ['proxies', i];
    unknown(p, path, ['name', 'base_path', 'url', 'revision', 'timeout', 'max_connections']);
    const name = str(p, path, 'name');
    const base = str(p, path, 'base_path');
    const url = str(p, path, 'url');
    if (base && !base.startsWith('/')) fail([...path, 'base_path'], 'must start with "/"');
    if (url) {
      try {
        const u = new URL(url);
        if (u.protocol !== 'http:' && u.protocol !== 'https:')
          fail([...path, 'url'], 'must be http:// or https://');
      } catch {
        fail([...path, 'url'], `invalid URL ${JSON.stringify(url)}`);
      }
    }
    if (p.timeout !== undefined && !(typeof p.timeout === 'number' && p.timeout > 0))
      fail([...path, 'timeout'], 'expected milliseconds > 0');
    if (name && base && url)
      proxies.push({
        name,
        revision: p.revision === undefined ? '1' : String(p.revision),
        proxy_name: 'default',
        base_path: base,
        target_name: 'default',
        url,
        max_connections: typeof p.max_connections === 'number' ? p.max_connections : maxConnections,
        ...(typeof p.timeout === 'number' ? { timeout: p.timeout } : {}),
      });
  });

  const products: EdgeProduct[] = [];
  list('products').forEach((p, i) => {
    const path = ['products', i];
    unknown(p, path, ['name', 'apiResources', 'proxies', 'environments', 'scopes', 'quota']);
    const name = str(p, path, 'name');
    let quota: EdgeProduct['quota'];
    if (p.quota !== undefined) {
      const q = p.quota;
      if (
        !isObj(q) ||
        typeof q.allow !== 'number' ||
        typeof q.interval !== 'number' ||
        !(TIME_UNITS as unknown[]).includes(q.timeUnit)
      )
        fail([...path, 'quota'], `expected { allow: n, interval: n, timeUnit: ${TIME_UNITS.join('|')} }`);
      else quota = { allow: q.allow, interval: q.interval, timeUnit: q.timeUnit as QuotaTimeUnit };
    }
    const proxiesOf = strs(p, path, 'proxies');
    for (const n of proxiesOf)
      if (!proxies.some((x) => x.name === n)) fail([...path, 'proxies'], `names an unknown proxy "${n}"`);
    if (name)
      products.push({
        name,
        apiResources: strs(p, path, 'apiResources'),
        proxies: proxiesOf,
        environments: strs(p, path, 'environments'),
        scopes: strs(p, path, 'scopes'),
        ...(quota ? { quota } : {}),
      });
  });

  const apps: StandaloneApp[] = [];
  const keysSeen = new Set<string>();
  list('apps').forEach((a, i) => {
    const path = ['apps', i];
    unknown(a, path, ['name', 'developer_email', 'products', 'credentials']);
    const name = str(a, path, 'name');
    const email = str(a, path, 'developer_email');
    const prods = strs(a, path, 'products');
    for (const n of prods)
      if (!products.some((x) => x.name === n)) fail([...path, 'products'], `names an unknown product "${n}"`);
    const creds: StandaloneApp['credentials'][number][] = [];
    const rawCreds = a.credentials;
    if (!Array.isArray(rawCreds) || !rawCreds.every(isObj))
      fail([...path, 'credentials'], 'expected a list of { key, secret }');
    else
      rawCreds.forEach((c, j) => {
        const cp = [...path, 'credentials', j];
        unknown(c, cp, ['key', 'secret', 'expires_at', 'status']);
        const key = str(c, cp, 'key');
        const secret = str(c, cp, 'secret', false);
        if (key && keysSeen.has(key)) fail([...cp, 'key'], 'duplicate key');
        if (key) keysSeen.add(key);
        if (c.status !== undefined && c.status !== 'approved' && c.status !== 'revoked')
          fail([...cp, 'status'], 'expected approved or revoked');
        if (c.expires_at !== undefined && typeof c.expires_at !== 'number')
          fail([...cp, 'expires_at'], 'expected epoch milliseconds');
        if (key)
          creds.push({
            key,
            ...(secret ? { secret } : {}),
            ...(typeof c.expires_at === 'number' ? { expires_at: c.expires_at } : {}),
            ...(c.status === 'revoked' ? { status: 'revoked' as const } : {}),
          });
      });
    if (name && email) apps.push({ name, developer_email: email, products: prods, credentials: creds });
  });

  const s = top.signing;
  let privateKeyPem: string | undefined;
  let kid: string | undefined;
  let lifetime = 1_800_000;
  let issuer = 'gatehouse-standalone';
  if (s !== undefined) {
    if (!isObj(s)) fail(['signing'], 'expected a mapping');
    else {
      unknown(s, ['signing'], ['private_key_file', 'private_key', 'kid', 'token_lifetime_ms', 'issuer']);
      if (typeof s.private_key_file === 'string') {
        try {
          privateKeyPem = readFileSync(resolve(dirname(file), s.private_key_file), 'utf8');
        } catch (err) {
          fail(
            ['signing', 'private_key_file'],
            `cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
          );
        }
      } else if (typeof s.private_key === 'string') privateKeyPem = s.private_key;
      if (privateKeyPem !== undefined) {
        try {
          const k = createPrivateKey(privateKeyPem);
          if (k.asymmetricKeyType !== 'rsa') fail(['signing'], 'the signing key must be an RSA key (RS256)');
        } catch {
          fail(['signing'], 'the signing key is not a readable PEM private key');
        }
      }
      if (s.kid !== undefined) kid = String(s.kid);
      if (s.token_lifetime_ms !== undefined) {
        if (typeof s.token_lifetime_ms === 'number' && s.token_lifetime_ms > 0)
          lifetime = s.token_lifetime_ms;
        else fail(['signing', 'token_lifetime_ms'], 'expected milliseconds > 0');
      }
      if (typeof s.issuer === 'string') issuer = s.issuer;
    }
  }
  if (problems.length) throw new EdgemicroConfigError(problems);
  // No key in the file: one for this run (tokens do not survive a restart).
  privateKeyPem ??= generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  }).privateKey;
  const publicKeyPem = createPublicKey(privateKeyPem).export({ type: 'spki', format: 'pem' }) as string;
  const jwk = createPublicKey(privateKeyPem).export({ format: 'jwk' }) as {
    kty: string;
    n: string;
    e: string;
  };
  return {
    proxies,
    products,
    keys: {
      publicKeyPem,
      jwks: [{ kty: jwk.kty, n: jwk.n, e: jwk.e, alg: 'RS256', use: 'sig', ...(kid ? { kid } : {}) }],
    },
    apps,
    signing: { privateKeyPem, ...(kid ? { kid } : {}), tokenLifetimeMs: lifetime, issuer },
  };
}
