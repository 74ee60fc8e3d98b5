// nginx-style variables and templates, compiled once at config time into small getter arrays so
// that evaluating `"http://$host$request_uri"` per request is a few property reads and a join.
import { randomFillSync } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** What a template can read about the request in flight. Implemented by the request context. */
export interface VariableSource {
  readonly method: string;
  readonly requestUri: string;
  readonly uri: string;
  readonly args: string;
  readonly hasQuery: boolean;
  readonly scheme: string;
  readonly host: string;
  /** One request field (`name` lower-case) as `headers[name]` holds it, a list joined: read without
   *  building the headers object where the source can. */
  header(name: string): string | undefined;
  readonly remoteAddr: string;
  readonly serverPort: string;
  readonly serverName: string;
  captures: RegExpExecArray | null;
  /** When the request began (`performance.now()`). */
  readonly start: number;
  vars: Map<string, string> | null;
  /** Map variables evaluated in this request, by the map's place in the config. */
  mapValues: (string | undefined)[] | null;
  upstreamHeaders: IncomingHttpHeaders | null;
  clientCertEscaped(): string;
}

export type Getter = (src: VariableSource) => string;

export interface CompiledTemplate {
  readonly source: string;
  /** Set when the template has no variables. */
  readonly constant: string | undefined;
  evaluate(src: VariableSource): string;
}

/** Variables a config defines (set, map, auth_request_set, named captures) plus map evaluators. */
export interface VariableScope {
  /** Names defined by `set`, `auth_request_set` or named regex captures. */
  readonly defined: ReadonlySet<string>;
  /** Map variables: evaluated lazily on first use in a request, then kept in `src.mapValues`. */
  readonly maps: ReadonlyMap<string, Getter>;
}

export class TemplateError extends Error {
  constructor(
    message: string,
    readonly source: string,
  ) {
    super(message);
  }
}

function headerValue(value: string | string[] | undefined): string {
  if (value === undefined) return '';
  return typeof value === 'string' ? value : value.join(', ');
}

// $request_id's random bytes, drawn 4 KiB at a time and turned into hex at once: a request takes a
// 32-digit slice of that string (no copy, no call into the binding).
const ID_BYTES = Buffer.alloc(4096);
let idHex = '';
let idOffset = 0;
function requestId(): string {
  if (idOffset === idHex.length) {
    idHex = randomFillSync(ID_BYTES).toString('hex');
    idOffset = 0;
  }
  idOffset += 32;
  return idHex.slice(idOffset - 32, idOffset);
}

const BUILTINS: Record<string, Getter> = {
  uri: (s) => s.uri,
  document_uri: (s) => s.uri,
  request_uri: (s) => s.requestUri,
  args: (s) => s.args,
  query_string: (s) => s.args,
  is_args: (s) => (s.hasQuery ? '?' : ''),
  host: (s) => s.host,
  scheme: (s) => s.scheme,
  https: (s) => (s.scheme === 'https' ? 'on' : ''),
  request_method: (s) => s.method,
  remote_addr: (s) => s.remoteAddr,
  server_port: (s) => s.serverPort,
  server_name: (s) => s.serverName,
  ssl_client_escaped_cert: (s) => s.clientCertEscaped(),
  proxy_add_x_forwarded_for: (s) => {
    const xff = s.header('x-forwarded-for');
    return xff ? `${xff}, ${s.remoteAddr}` : s.remoteAddr;
  },
  // nginx's $request_time: seconds since the request began, with millisecond resolution.
  request_time: (s) => ((performance.now() - s.start) / 1000).toFixed(3),
  // The same in whole milliseconds (edgemicro's x-response-time).
  request_time_ms: (s) => String(Math.round(performance.now() - s.start)),
  // nginx's $request_id: 32 random hex digits (a fresh value per evaluation: use it once per request).
  request_id: requestId,
  content_length: (s) => s.header('content-length') ?? '',
  content_type: (s) => s.header('content-type') ?? '',
};

/** Resolve a variable name to a getter, or throw naming the unknown variable. */
function variableGetter(name: string, scope: VariableScope, source = name): Getter {
  const builtin = BUILTINS[name];
  if (builtin) return builtin;
  if (/^[0-9]$/.test(name)) {
    const n = Number(name);
    return (s) => s.captures?.[n] ?? '';
  }
  if (name.startsWith('http_')) {
    const header = name.slice(5).replace(/_/g, '-').toLowerCase();
    return (s) => s.header(header) ?? '';
  }
  if (name.startsWith('upstream_http_')) {
    const header = name.slice(14).replace(/_/g, '-').toLowerCase();
    return (s) => headerValue(s.upstreamHeaders?.[header]);
  }
  if (name.startsWith('arg_')) {
    const arg = name.slice(4);
    return (s) => queryArg(s.args, arg);
  }
  const map = scope.maps.get(name);
  if (map) {
    // Its value, once evaluated, is kept at the map's place in the request's list (maps are only
    // ever added to the scope, so the place holds); a `set` of the same name still wins.
    let slot = 0;
    for (const k of scope.maps.keys()) {
      if (k === name) break;
      slot++;
    }
    return (s) => {
      const set = s.vars?.get(name);
      if (set !== undefined) return set;
      const cached = s.mapValues?.[slot];
      if (cached !== undefined) return cached;
      const value = map(s);
      (s.mapValues ??= [])[slot] = value;
      return value;
    };
  }
  if (scope.defined.has(name)) {
    return (s) => s.vars?.get(name) ?? s.captures?.groups?.[name] ?? '';
  }
  throw new TemplateError(`unknown variable "$${name}"`, source);
}

function queryArg(args: string, name: string): string {
  if (!args) return '';
  for (const pair of args.split('&')) {
    const eq = pair.indexOf('=');
    const key = eq === -1 ? pair : pair.slice(0, eq);
    if (key === name) return eq === -1 ? '' : pair.slice(eq + 1);
  }
  return '';
}

const VAR_NAME = /[A-Za-z0-9_]/;

/** Compile `"text $var ${var}text"`; `$$` is a literal `$`. */
export function compileTemplate(source: string, scope: VariableScope): CompiledTemplate {
  const parts: Array<string | Getter> = [];
  let literal = '';
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c !== '$') {
      literal += c;
      continue;
    }
    if (source[i + 1] === '$') {
      literal += '$';
      i++;
      continue;
    }
    let name: string;
    if (source[i + 1] === '{') {
      const end = source.indexOf('}', i + 2);
      if (end === -1) throw new TemplateError(`unterminated "\${" in "${source}"`, source);
      name = source.slice(i + 2, end);
      i = end;
    } else {
      let j = i + 1;
      // `$1` is one digit: `$12` is `$1` followed by "2", as in nginx.
      if (/[0-9]/.test(source[j] ?? '')) j++;
      else while (j < source.length && VAR_NAME.test(source[j]!)) j++;
      name = source.slice(i + 1, j);
      i = j - 1;
    }
    if (!name) throw new TemplateError(`invalid variable name in "${source}"`, source);
    if (literal) parts.push(literal);
    literal = '';
    parts.push(variableGetter(name, scope, source));
  }
  if (literal) parts.push(literal);
  if (parts.every((p) => typeof p === 'string')) {
    const constant = parts.join('');
    return { source, constant, evaluate: () => constant };
  }
  if (parts.length === 1) {
    const g = parts[0] as Getter;
    return { source, constant: undefined, evaluate: g };
  }
  return {
    source,
    constant: undefined,
    evaluate(src) {
      let out = '';
      for (const p of parts) out += typeof p === 'string' ? p : p(src);
      return out;
    },
  };
}

/** Names of the named capture groups of a regex source (nginx `(?<name>…)` and `(?P<name>…)`). */
export function namedGroups(regex: string): string[] {
  const out: string[] = [];
  for (const m of regex.matchAll(/\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>/g)) out.push(m[1]!);
  return out;
}

/** Compile a PCRE-style nginx regex into a JS RegExp. */
export function compileRegex(regex: string, caseInsensitive = false): RegExp {
  return new RegExp(regex.replace(/\(\?P</g, '(?<'), caseInsensitive ? 'i' : '');
}
