// What the schema cannot say: references between parts of the config (upstream names, plugins and
// error renderers the engine has), pairs of settings that go together (a client certificate and its
// key, a TLS listener and a certificate), URLs and regular expressions that must parse. Runs on the
// same input as the schema check, whether that passed or not, so it guards every access.
import { describe, isPlainObject } from './describe.js';
import type { Fail } from './schema-check.js';

/** What the engine that will run a config has, beyond what the config itself defines. */
export interface Known {
  renderers: ReadonlySet<string>;
  /** Plugin names the engine can run; undefined: whatever the config's `plugins` section loads. */
  plugins: ReadonlySet<string> | undefined;
}

type Obj = Record<string, unknown>;

const objects = (v: unknown): Array<[number, Obj]> =>
  Array.isArray(v) ? v.flatMap((x, i) => (isPlainObject(x) ? [[i, x] as [number, Obj]] : [])) : [];
const text = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

export function crossCheck(cfg: unknown, known: Known, fail: Fail): void {
  if (!isPlainObject(cfg)) return;
  const upstreams = isPlainObject(cfg.upstreams) ? cfg.upstreams : {};
  for (const [name, u] of Object.entries(upstreams)) {
    if (!isPlainObject(u)) continue;
    const p = `upstreams.${name}`;
    if (text(u.url)) checkUrl(u.url, `${p}.url`, fail, 'an absolute http:// or https:// URL');
    checkUpstreamTls(u.tls, `${p}.tls`, fail);
  }
  for (const [i, m] of objects(cfg.maps))
    for (const [j, e] of objects(m.regexEntries))
      checkRegex(e.regex, `maps[${i}].regexEntries[${j}].regex`, fail);
  const ctx = {
    upstreams: new Set(Object.keys(upstreams)),
    pluginSection: cfg.plugins !== undefined,
    ...known,
  };
  for (const [i, s] of objects(cfg.servers)) checkServer(s, `servers[${i}]`, ctx, fail);
}

type Context = Known & { upstreams: ReadonlySet<string>; pluginSection: boolean };

function checkServer(s: Obj, p: string, ctx: Context, fail: Fail): void {
  checkRenderer(s.errors, `${p}.errors`, ctx, fail);
  if (objects(s.listen).some(([, l]) => l.tls === true) && s.tls === undefined)
    fail(`${p}.tls`, 'a TLS listener needs tls settings (a certificate)');
  if (isPlainObject(s.tls)) checkServerTls(s.tls, `${p}.tls`, fail);
  checkStatements(s.rewrite, `${p}.rewrite`, fail);
  for (const [i, r] of objects(s.routes)) checkRoute(r, `${p}.routes[${i}]`, ctx, fail);
}

function checkServerTls(t: Obj, p: string, fail: Fail): void {
  if (isPlainObject(t.certificate)) checkCertificate(t.certificate, `${p}.certificate`, fail);
  for (const [i, c] of objects(t.sni)) checkCertificate(c, `${p}.sni[${i}]`, fail);
  if (t.certificate === undefined && !(Array.isArray(t.sni) && t.sni.length > 0))
    fail(`${p}.certificate`, 'expected a default certificate or at least one SNI certificate');
  const cc = t.clientCertificate;
  if (isPlainObject(cc) && (cc.mode === 'optional' || cc.mode === 'required') && !cc.caFile && !cc.ca)
    fail(`${p}.clientCertificate`, `mode "${cc.mode}" verifies client certificates and needs caFile or ca`);
}

function checkCertificate(c: Obj, p: string, fail: Fail): void {
  const hasPem = (c.certFile || c.cert) && (c.keyFile || c.key);
  if (!hasPem && !c.pfxFile) fail(p, 'expected certFile+keyFile, cert+key, or pfxFile');
}

function checkUpstreamTls(t: unknown, p: string, fail: Fail): void {
  if (isPlainObject(t) && (t.certFile || t.cert) && !(t.keyFile || t.key))
    fail(p, 'a client certificate needs its key');
}

function checkStatements(v: unknown, p: string, fail: Fail): void {
  for (const [i, s] of objects(v)) {
    const sp = `${p}[${i}]`;
    if (s.type === 'rewrite') checkRegex(s.regex, `${sp}.regex`, fail);
    if (s.type !== 'if') continue;
    if (isPlainObject(s.condition) && s.condition.type === 'matches')
      checkRegex(s.condition.regex, `${sp}.condition.regex`, fail);
    checkStatements(s.then, `${sp}.then`, fail);
  }
}

function checkRoute(r: Obj, p: string, ctx: Context, fail: Fail): void {
  checkRenderer(r.errors, `${p}.errors`, ctx, fail);
  const m = isPlainObject(r.match) ? r.match : {};
  if ('regex' in m && !('basePath' in m || 'exact' in m || 'prefix' in m))
    checkRegex(m.regex, `${p}.match.regex`, fail);
  checkStatements(r.rewrite, `${p}.rewrite`, fail);
  if (Array.isArray(r.plugins)) r.plugins.forEach((n, i) => checkPlugin(n, `${p}.plugins[${i}]`, ctx, fail));
  const a = r.action;
  if (!isPlainObject(a) || a.type !== 'proxy') return;
  const ap = `${p}.action`;
  if (text(a.upstream)) {
    const u = a.upstream;
    const isTemplate = u.includes('://') || u.includes('$');
    if (!isTemplate && !ctx.upstreams.has(u))
      fail(`${ap}.upstream`, `unknown upstream "${u}" (expected a name from upstreams or a URL)`);
    if (isTemplate && !u.includes('$')) checkUrl(u, `${ap}.upstream`, fail, 'an http:// or https:// URL');
  }
  if (a.target === 'base_path' && !('basePath' in m))
    fail(`${ap}.target`, '"base_path" needs a basePath match');
  if (a.target === 'replace_prefix' && !('prefix' in m || 'exact' in m))
    fail(`${ap}.target`, '"replace_prefix" needs a prefix or exact match');
  if (isPlainObject(a.options)) checkUpstreamTls(a.options.tls, `${ap}.options.tls`, fail);
}

/** Fail closed: a route must not be served without a plugin it names. */
function checkPlugin(n: unknown, p: string, ctx: Context, fail: Fail): void {
  if (!text(n)) return;
  if (ctx.plugins === undefined) {
    if (!ctx.pluginSection)
      fail(p, `unknown plugin ${describe(n)}: the config has no plugins section to load it from`);
  } else if (!ctx.plugins.has(n))
    fail(
      p,
      `unknown plugin ${describe(n)} (this engine can run: ${[...ctx.plugins].join(', ') || 'no plugins'})`,
    );
}

function checkRenderer(v: unknown, p: string, ctx: Context, fail: Fail): void {
  if (text(v) && !ctx.renderers.has(v))
    fail(p, `unknown error renderer ${describe(v)} (this engine has: ${[...ctx.renderers].join(', ')})`);
}

function checkUrl(u: string, p: string, fail: Fail, expected: string): void {
  let url: URL | undefined;
  try {
    url = new URL(u);
  } catch {
    return fail(p, `expected ${expected}, got ${describe(u)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    fail(p, `expected an http:// or https:// URL, got ${describe(u)}`);
}

function checkRegex(v: unknown, p: string, fail: Fail): void {
  if (!text(v)) return;
  try {
    new RegExp(v.replace(/\(\?P</g, '(?<'));
  } catch (e) {
    fail(p, `invalid regular expression: ${(e as Error).message}`);
  }
}
