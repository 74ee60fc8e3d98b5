// How `proxy_pass` builds the upstream request target, following nginx's rules:
// - static URL without a URI part (`http://h:1`) → the client's request URI (`request_uri`);
// - static URL with a URI part (`http://h:1/x/`) → the location prefix is replaced (`replace_prefix`),
//   which nginx forbids in regex locations;
// - URL with variables → evaluated per request; when the result has a URI part it is sent verbatim
//   (`url`), otherwise the request URI is sent. We resolve `set` and `map` variables statically where
//   we can so the common cases compile to the plain mode; when the result cannot be known we emit
//   `url`, whose engine contract is to fall back to the request URI for a URL without path or query.
import type { NginxArg } from './ast.js';
import type { CompileContext } from './context.js';

type TargetMode = 'request_uri' | 'replace_prefix' | 'url';

export interface ProxyTarget {
  mode: TargetMode;
  /** `http`/`https` when known statically (used to decide on upstream TLS options). */
  scheme?: 'http' | 'https';
}

/** Candidate values of a variable, from `set` statements and `map` values; undefined if none known. */
export type VariableValues = (name: string) => string[] | undefined;

/** Variables whose value is a URI (they end the host part of a URL). */
const URI_VARIABLES = new Set(['request_uri', 'uri', 'document_uri']);

interface Shape {
  scheme?: 'http' | 'https';
  /** Whether the URL has a URI part; undefined when it cannot be told statically. */
  uri?: boolean;
}

const VAR = /\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/y;

function shapeOf(template: string, values: VariableValues, depth: number): Shape {
  // A URL that is a single variable: look through set/map values.
  VAR.lastIndex = 0;
  const whole = VAR.exec(template);
  if (whole && VAR.lastIndex === template.length) {
    const name = whole[1] ?? whole[2]!;
    const candidates = depth < 4 ? values(name) : undefined;
    if (!candidates || candidates.length === 0) return {};
    const shapes = candidates.map((c) => shapeOf(c, values, depth + 1));
    const first = shapes[0]!;
    return {
      scheme: shapes.every((s) => s.scheme === first.scheme) ? first.scheme : undefined,
      uri: shapes.every((s) => s.uri === first.uri) ? first.uri : undefined,
    };
  }
  const m = /^(https?):\/\//i.exec(template);
  if (!m) return {};
  const scheme = m[1]!.toLowerCase() as 'http' | 'https';
  // Walk the host part: it ends at a literal `/` or `?`, or at a variable holding a URI.
  let i = m[0].length;
  while (i < template.length) {
    const ch = template[i]!;
    if (ch === '/' || ch === '?') return { scheme, uri: true };
    if (ch === '$') {
      VAR.lastIndex = i;
      const v = VAR.exec(template);
      if (v) {
        if (URI_VARIABLES.has(v[1] ?? v[2]!)) return { scheme, uri: true };
        i = VAR.lastIndex;
        continue;
      }
    }
    i++;
  }
  return { scheme, uri: false };
}

export function proxyTarget(
  ctx: CompileContext,
  url: NginxArg,
  location: 'prefix' | 'exact' | 'regex',
  values: VariableValues,
): ProxyTarget {
  const text = url.value;
  if (text.startsWith('unix:')) ctx.fail(`unix domain socket upstreams are not supported: "${text}"`, url);
  if (!text.includes('$')) {
    const m = /^(https?):\/\/([^/?]*)(.*)$/i.exec(text);
    if (!m) ctx.fail(`invalid URL prefix in "${text}"`, url);
    if (m[2] === '') ctx.fail(`no host in "${text}" of the "proxy_pass" directive`, url);
    const scheme = m[1]!.toLowerCase() as 'http' | 'https';
    if (m[3] === '') return { mode: 'request_uri', scheme };
    if (location === 'regex') {
      ctx.fail(
        '"proxy_pass" cannot have URI part in location given by regular expression, or inside named location, or inside "if" statement, or inside "limit_except" block',
        url,
      );
    }
    return { mode: 'replace_prefix', scheme };
  }
  const shape = shapeOf(text, values, 0);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text) && !shape.scheme)
    ctx.fail(`invalid URL prefix in "${text}"`, url);
  const target: ProxyTarget = { mode: shape.uri === false ? 'request_uri' : 'url' };
  if (shape.scheme) target.scheme = shape.scheme;
  return target;
}
