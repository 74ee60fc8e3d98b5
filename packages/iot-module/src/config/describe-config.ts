// A human-readable summary of a compiled configuration for `iot-module check`: listeners, the
// server-level rewrite phase and every location with what it does, in nginx's matching order terms.
import type { Condition, GatehouseConfig, RouteConfig, ServerConfig, Statement } from '@gatehouse/core';

export function describeConfig(config: GatehouseConfig): string[] {
  const out: string[] = [];
  for (const server of config.servers) out.push(...describeServer(server));
  if (config.maps?.length) {
    out.push('maps:');
    for (const m of config.maps)
      out.push(`  $${m.variable} from "${m.source}" (default ${JSON.stringify(m.default ?? '')})`);
  }
  if (config.hosts && Object.keys(config.hosts).length) {
    out.push('hosts:');
    for (const [name, address] of Object.entries(config.hosts)) out.push(`  ${name} → ${address}`);
  }
  return out;
}

function describeServer(server: ServerConfig): string[] {
  const out: string[] = [`server ${server.name ?? ''}`.trimEnd()];
  for (const l of server.listen) {
    const flags = [
      l.tls ? 'tls' : 'plain',
      l.defaultServer ? 'default_server' : '',
      l.http2 ? 'http2' : '',
    ].filter(Boolean);
    out.push(`  listen ${l.address ?? '127.0.0.1'}:${l.port} (${flags.join(', ')})`);
  }
  const tls = server.tls;
  if (tls?.certificate) out.push(`  certificate ${tls.certificate.certFile ?? '(inline)'}`);
  if (tls) {
    const versions = [tls.minVersion, tls.maxVersion].filter(Boolean).join('..');
    if (versions) out.push(`  tls versions ${versions}`);
    if (tls.clientCertificate) out.push(`  client certificates ${tls.clientCertificate.mode}`);
  }
  if (server.rewrite?.length) {
    out.push('  before location matching:');
    for (const s of server.rewrite) out.push(...describeStatement(s, '    '));
  }
  out.push('  locations (regex in this order after the longest prefix; = and ^~ stop the search):');
  for (const route of server.routes) out.push(...describeRoute(route));
  return out;
}

function describeRoute(route: RouteConfig): string[] {
  const m = route.match;
  const kind =
    'exact' in m
      ? `exact    = ${m.exact}`
      : 'prefix' in m
        ? `${m.stopRegex ? 'prefix ^~' : 'prefix   '} ${m.prefix}`
        : 'regex' in m
          ? `regex ${m.caseInsensitive ? '~*' : '~ '} ${m.regex}`
          : `base path ${m.basePath}`;
  const parts: string[] = [];
  const a = route.action;
  if (a.type === 'proxy') {
    parts.push(`→ ${a.upstream}`, `target ${a.target ?? 'request_uri'}`);
    if (a.upgrade) parts.push('websocket');
    if (a.cache) parts.push(`cached ${Math.round(a.cache.validMs / 60000)} min`);
    const tls = a.options?.tls;
    if (tls) parts.push(tls.verify ? `tls verify${tls.name ? ` name ${tls.name}` : ''}` : 'tls no-verify');
  } else {
    parts.push(`return ${a.status}`);
  }
  if (route.internal) parts.push('internal');
  if (route.authRequest) parts.push(`auth ${route.authRequest.uri}`);
  parts.push(`body limit ${route.maxBodySize === undefined ? 'default' : formatSize(route.maxBodySize)}`);
  const out = [`    ${kind}  ${parts.join(', ')}`];
  for (const s of route.rewrite ?? []) out.push(...describeStatement(s, '        '));
  for (const h of a.type === 'proxy' ? (a.setHeaders ?? []) : [])
    out.push(`        header ${h.name}: ${h.value}`);
  return out;
}

function describeStatement(s: Statement, indent: string): string[] {
  switch (s.type) {
    case 'if':
      return [
        `${indent}if (${describeCondition(s.condition)})`,
        ...s.then.flatMap((t) => describeStatement(t, `${indent}  `)),
      ];
    case 'rewrite':
      return [`${indent}rewrite ${s.regex} ${s.replacement}${s.flag ? ` ${s.flag}` : ''}`];
    case 'set':
      return [`${indent}set $${s.variable} ${s.value}`];
    case 'return':
      return [`${indent}return ${s.status}${s.body !== undefined ? ` ${s.body}` : ''}`];
  }
}

function describeCondition(c: Condition): string {
  if (c.type === 'truthy') return c.value;
  if (c.type === 'equals') return `${c.value} ${c.negate ? '!=' : '='} ${c.to}`;
  return `${c.value} ${c.negate ? '!' : ''}~${c.caseInsensitive ? '*' : ''} ${c.regex}`;
}

function formatSize(bytes: number): string {
  if (bytes === 0) return 'unlimited';
  for (const [unit, size] of [
    ['G', 1024 ** 3],
    ['M', 1024 ** 2],
    ['K', 1024],
  ] as const)
    if (bytes % size === 0) return `${bytes / size}${unit}`;
  return `${bytes} bytes`;
}
