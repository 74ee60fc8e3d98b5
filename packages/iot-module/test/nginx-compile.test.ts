import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  compile,
  NginxConfigError,
  parse,
  parseSize,
  parseTime,
  type CompileOptions,
} from '../src/nginx/index.js';
import type { ProxyAction, RouteConfig, ServerConfig } from '../src/nginx/native-types.js';
import { validateConfig } from '@gatehouse/core';
import { fixturePath, renderLayer, type Layer } from './fixtures/nginx/render-template.js';

const APP = { confDir: '/app' } satisfies CompileOptions;

function compileLayer(layer: Layer, options: CompileOptions = APP) {
  const file = fixturePath(layer);
  const result = compile(parse(readFileSync(file, 'utf8'), { file }), options);
  validateConfig(result.config); // the engine accepts what we produce
  return result;
}

function onlyServer(config: { servers: ServerConfig[] }): ServerConfig {
  assert.equal(config.servers.length, 1);
  return config.servers[0]!;
}

function route(server: ServerConfig, name: string): RouteConfig {
  const r = server.routes.find((x) => x.name === name);
  assert.ok(r, `route ${name} in ${server.routes.map((x) => x.name).join(', ')}`);
  return r;
}

function proxy(r: RouteConfig): ProxyAction {
  assert.equal(r.action.type, 'proxy');
  return r.action as ProxyAction;
}

/** Compile a small config given as the inside of `http { … }`. */
function compileHttp(http: string, options: CompileOptions = APP) {
  return compile(parse(`events {}\nhttp {\n${http}\n}\n`, { file: 't.conf' }), options);
}

function compileServer(server: string, options: CompileOptions = APP): ServerConfig {
  return onlyServer(compileHttp(`server {\nlisten 8080;\n${server}\n}`, options).config);
}

const EDGEHUB_HEADERS = [
  { name: 'x-ms-edge-clientcert', value: '$ssl_client_escaped_cert' },
  { name: 'Authorization', value: '$auth' },
];

test('the rendered fixtures are the default template rendered for each layer', () => {
  for (const layer of ['top', 'lower', 'acr'] as const) {
    assert.equal(
      readFileSync(fixturePath(layer), 'utf8'),
      renderLayer(layer),
      `fixture ${layer}.conf is stale`,
    );
  }
});

test('top layer: listener, server TLS, maps, log', () => {
  const { config } = compileLayer('top');
  const server = onlyServer(config);
  assert.deepEqual(server.listen, [
    { address: '0.0.0.0', port: 8000, tls: true, defaultServer: true, http2: false },
  ]);
  assert.deepEqual(server.tls, {
    certificate: { certFile: '/app/server.crt', keyFile: '/app/private_key_server.pem' },
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.2',
    clientCertificate: { mode: 'optional_no_ca', caFile: '/app/trustedCA.crt', verifyDepth: 7 },
  });
  assert.deepEqual(config.maps, [
    {
      source: '$http_authorization',
      variable: 'auth',
      default: '$http_authorization',
      entries: [{ key: '', value: '$token' }],
    },
    {
      source: '',
      variable: 'edge_hub_endpoint',
      default: 'https://edgehub',
      entries: [{ key: '', value: 'https://edgehub' }],
    },
  ]);
  assert.deepEqual(config.log, { level: 'info', access: true });
  assert.deepEqual(config.headers, {
    xForwardedFor: 'off',
    xForwardedProto: 'off',
    xForwardedHost: 'off',
    forwarded: false,
  });
});

test('top layer: server-level if/rewrite statements in file order', () => {
  const server = onlyServer(compileLayer('top').config);
  assert.deepEqual(server.rewrite, [
    {
      type: 'if',
      condition: { type: 'truthy', value: '$http_x_ms_version' },
      then: [{ type: 'rewrite', regex: '^(.*)$', replacement: '/storage$1', flag: 'last' }],
    },
    {
      type: 'if',
      condition: { type: 'matches', value: '$uri', regex: '^/v2*.' },
      then: [{ type: 'rewrite', regex: '^(.*)$', replacement: '/registry$1', flag: 'last' }],
    },
  ]);
});

test('top layer: routes in file order with their match kinds and actions', () => {
  const server = onlyServer(compileLayer('top').config);
  assert.deepEqual(
    server.routes.map((r) => r.match),
    [
      { regex: '^/registry/(.*)' },
      { regex: '^/storage/(.*)' },
      { regex: '^/devices|twins/' },
      { regex: '^/.iothub/websocket' },
      { exact: '/auth' },
    ],
  );
  const registry = route(server, 'location ~^/registry/(.*)');
  assert.deepEqual(registry.rewrite, [
    { type: 'set', variable: 'endpoint', value: 'http://registry:5000$request_uri' },
  ]);
  assert.deepEqual(proxy(registry), {
    type: 'proxy',
    requestBuffering: true, // nginx's default where the template is silent
    upstream: '$endpoint',
    target: 'url', // variable proxy_pass with a URI part: the original $request_uri, verbatim
    upgrade: false,
    options: { readTimeoutMs: 3_600_000 },
  });
  const storage = proxy(route(server, 'location ~^/storage/(.*)'));
  assert.equal(storage.target, 'url');
  assert.deepEqual(route(server, 'location ~^/storage/(.*)').rewrite, [
    { type: 'set', variable: 'endpoint', value: 'http://AzureBlobStorageonIoTEdge:11002$request_uri' },
  ]);

  for (const r of server.routes) {
    assert.equal(r.maxBodySize, 1024 * 1024, `${r.name}: nginx's default 1m`);
    assert.equal(proxy(r).options?.readTimeoutMs, 3_600_000, `${r.name}: http-level proxy_read_timeout`);
  }
  // nginx's defaults where the template is silent: keepalive_timeout 75s without a Keep-Alive field,
  // client_header_timeout, client_body_timeout and send_timeout 60s, no bound on a whole request.
  assert.deepEqual(server.limits, {
    maxBodySize: 1024 * 1024,
    keepAliveTimeoutMs: 75_000,
    keepAliveHeader: false,
    headersTimeoutMs: 60_000,
    clientBodyTimeoutMs: 60_000,
    sendTimeoutMs: 60_000,
    requestTimeoutMs: 0,
  });
});

test('client_body_timeout and send_timeout: honoured at http and server level, server wins', () => {
  const { config, notices } = compileHttp(`
    client_body_timeout 7s;
    send_timeout 9s;
    server { listen 8080; location / { proxy_pass http://up; } }
    server {
      listen 8081;
      client_body_timeout 2s;
      send_timeout 500ms;
      location / { send_timeout 1s; proxy_pass http://up; }
    }
  `);
  const [a, b] = config.servers;
  assert.equal(a!.limits?.clientBodyTimeoutMs, 7000);
  assert.equal(a!.limits?.sendTimeoutMs, 9000);
  assert.equal(b!.limits?.clientBodyTimeoutMs, 2000);
  assert.equal(b!.limits?.sendTimeoutMs, 500);
  assert.ok(
    notices.some((n) => n.includes('"send_timeout" in a location is ignored')),
    notices.join('\n'),
  );
  assert.ok(!notices.some((n) => n.includes('"client_body_timeout" is accepted')));
  validateConfig(config); // the engine accepts what we produce
});

test('edgeHub locations: auth_request, token header, client cert, no upstream verification', () => {
  const server = onlyServer(compileLayer('top').config);
  const auth = { uri: '/auth', set: [{ variable: 'token', value: '$upstream_http_x_token' }] };
  const devices = route(server, 'location ~^/devices|twins/');
  assert.deepEqual(devices.authRequest, auth);
  assert.deepEqual(proxy(devices), {
    type: 'proxy',
    requestBuffering: true,
    upstream: '$edge_hub_endpoint',
    target: 'request_uri', // the map always yields https://edgehub: no URI part
    upgrade: false,
    setHeaders: EDGEHUB_HEADERS,
    options: { readTimeoutMs: 3_600_000, tls: { verify: false, serverName: false } },
  });
  const ws = route(server, 'location ~^/.iothub/websocket');
  assert.deepEqual(ws.authRequest, auth);
  assert.deepEqual(proxy(ws), {
    type: 'proxy',
    requestBuffering: true,
    upstream: '$edge_hub_endpoint',
    target: 'request_uri',
    host: { template: '$host' },
    upgrade: true, // Upgrade/Connection headers become the typed upgrade flag
    setHeaders: EDGEHUB_HEADERS,
    options: { readTimeoutMs: 3_600_000, tls: { verify: false, serverName: false } },
  });
  for (const r of server.routes) {
    if (r !== devices && r !== ws) assert.equal(r.authRequest, undefined, r.name);
  }
});

test('/auth: internal, cached under a constant key for TOKEN_VALIDITY_MINUTES', () => {
  const server = onlyServer(compileLayer('top').config);
  const auth = route(server, 'location = /auth');
  assert.equal(auth.internal, true);
  assert.deepEqual(auth.rewrite, [{ type: 'set', variable: 'endpoint', value: 'http://127.0.0.1:6001' }]);
  assert.deepEqual(proxy(auth), {
    type: 'proxy',
    requestBuffering: true,
    upstream: '$endpoint',
    target: 'request_uri',
    upgrade: false,
    options: { readTimeoutMs: 3_600_000 },
    cache: { key: 'token', validMs: 30 * 60_000, maxEntries: 8000 },
  });
  assert.equal(server.routes.filter((r) => r.internal).length, 1);
});

test('lower layer: everything to the parent, verified with the module id as name', () => {
  const server = onlyServer(compileLayer('lower').config);
  const toParent = { type: 'rewrite', regex: '^(.*)$', replacement: '/parent$1', flag: 'last' };
  assert.deepEqual(server.rewrite, [
    { type: 'if', condition: { type: 'truthy', value: '$http_x_ms_version' }, then: [toParent] },
    { type: 'if', condition: { type: 'matches', value: '$uri', regex: '^/v2*.' }, then: [toParent] },
  ]);
  assert.deepEqual(
    server.routes.map((r) => r.name),
    [
      'location ~^/parent/(.*)',
      'location ~^/devices|twins/',
      'location ~^/.iothub/websocket',
      'location = /auth',
    ],
  );
  assert.deepEqual(proxy(route(server, 'location ~^/parent/(.*)')), {
    type: 'proxy',
    requestBuffering: true,
    upstream: 'https://parent:8000$request_uri',
    target: 'url',
    upgrade: false,
    options: {
      readTimeoutMs: 3_600_000,
      tls: { verify: true, serverName: true, name: 'apiproxy', caFile: '/app/trustedCA.crt', verifyDepth: 7 },
    },
  });
});

test('connected ACR: /v2 and /acr prefix routes with 1000G bodies and forwarded headers', () => {
  const server = onlyServer(compileLayer('acr').config);
  assert.deepEqual(
    server.routes.map((r) => r.match),
    [
      { prefix: '/v2' },
      { prefix: '/acr' },
      { regex: '^/storage/(.*)' },
      { regex: '^/parent/(.*)' },
      { regex: '^/devices|twins/' },
      { regex: '^/.iothub/websocket' },
      { exact: '/auth' },
    ],
  );
  for (const name of ['location /v2', 'location /acr']) {
    const r = route(server, name);
    assert.equal(r.maxBodySize, 1000 * 1024 ** 3);
    assert.deepEqual(proxy(r), {
      type: 'proxy',
      requestBuffering: true,
      upstream: 'http://connected-registry:8080',
      target: 'request_uri', // static proxy_pass without URI part
      upgrade: false,
      setHeaders: [
        { name: 'X-Forwarded-Host', value: '$http_host' },
        { name: 'X-Forwarded-Proto', value: '$scheme' },
      ],
      options: { readTimeoutMs: 3_600_000 },
    });
  }
  assert.equal(route(server, 'location ~^/storage/(.*)').maxBodySize, 1024 * 1024);
  // Blob goes to storage; /v2 is left to the ACR location (no registry/parent rewrite).
  assert.deepEqual(server.rewrite, [
    {
      type: 'if',
      condition: { type: 'truthy', value: '$http_x_ms_version' },
      then: [{ type: 'rewrite', regex: '^(.*)$', replacement: '/storage$1', flag: 'last' }],
    },
  ]);
});

test('options: default body limit, listen address, hosts, upstream keep-alive', () => {
  const { config } = compileLayer('acr', {
    ...APP,
    defaultMaxBodySize: 0,
    listenAddress: '127.0.0.5',
    hosts: { edgehub: '127.0.0.1' },
    upstreamKeepAlive: false,
  });
  const server = onlyServer(config);
  assert.equal(server.listen[0]!.address, '127.0.0.5');
  assert.deepEqual(config.hosts, { edgehub: '127.0.0.1' });
  assert.equal(route(server, 'location ~^/storage/(.*)').maxBodySize, 0);
  assert.equal(route(server, 'location /v2').maxBodySize, 1000 * 1024 ** 3);
  for (const r of server.routes) assert.equal(proxy(r).keepAlive, false);
});

test('notices name the accepted directives and their lines', () => {
  const { notices } = compileLayer('top');
  const file = fixturePath('top');
  assert.ok(
    notices.some((n) => n.startsWith(`${file} (line 5): "proxy_buffers"`)),
    notices.join('\n'),
  );
  assert.ok(
    notices.some((n) => /\(lines \d+(, \d+){4}\): "resolver"/.test(n)),
    notices.join('\n'),
  );
});

test('proxy_pass target modes follow nginx', () => {
  const server = compileServer(`
    location /a { proxy_pass http://up:1; }
    location /b/ { proxy_pass http://up:1/x/; }
    location = /c { proxy_pass https://up/y; }
    location /d { set $u http://up:1; proxy_pass $u; }
    location /e { proxy_pass http://$host:8080; }
    location /f { proxy_pass $http_x_target; }
    location /g { proxy_pass http://up:1/$1?a=b; }
  `);
  const modes = server.routes.map((r) => [r.match, proxy(r).target]);
  assert.deepEqual(modes, [
    [{ prefix: '/a' }, 'request_uri'],
    [{ prefix: '/b/' }, 'replace_prefix'],
    [{ exact: '/c' }, 'replace_prefix'],
    [{ prefix: '/d' }, 'request_uri'],
    [{ prefix: '/e' }, 'request_uri'],
    [{ prefix: '/f' }, 'url'], // unknown at compile time: the engine decides per request
    [{ prefix: '/g' }, 'url'],
  ]);
  // proxy_http_version defaults to 1.0 in nginx: no keep-alive, no upgrade.
  assert.equal(proxy(server.routes[0]!).keepAlive, false);
  assert.equal(proxy(server.routes[2]!).options?.tls?.verify, false);
});

test('proxy_set_header and add_header inherit as whole lists, like nginx', () => {
  const { config } = compileHttp(`
    proxy_set_header X-A a;
    add_header X-R r;
    client_max_body_size 10M;
    proxy_connect_timeout 5s;
    server {
      listen 8080;
      proxy_set_header X-B b;
      proxy_send_timeout 500ms;
      location /inherit { proxy_http_version 1.1; proxy_pass http://up; }
      location /own {
        proxy_http_version 1.1;
        proxy_set_header X-C c;
        proxy_set_header X-Drop "";
        add_header X-Own o;
        client_max_body_size 0;
        proxy_connect_timeout 1m;
        proxy_pass http://up;
      }
    }
  `);
  const server = onlyServer(config);
  const inherit = route(server, 'location /inherit');
  const own = route(server, 'location /own');
  assert.deepEqual(proxy(inherit).setHeaders, [{ name: 'X-B', value: 'b' }]);
  assert.deepEqual(proxy(own).setHeaders, [
    { name: 'X-C', value: 'c' },
    { name: 'X-Drop', value: '' },
  ]);
  assert.deepEqual(inherit.addResponseHeaders, [{ name: 'X-R', value: 'r' }]);
  assert.deepEqual(own.addResponseHeaders, [{ name: 'X-Own', value: 'o' }]);
  assert.equal(inherit.maxBodySize, 10 * 1024 * 1024);
  assert.equal(own.maxBodySize, 0);
  assert.deepEqual(proxy(inherit).options, { connectTimeoutMs: 5000, sendTimeoutMs: 500 });
  assert.deepEqual(proxy(own).options, { connectTimeoutMs: 60_000, sendTimeoutMs: 500 });
  assert.equal(proxy(inherit).keepAlive, undefined);
});

test('proxy_request_buffering: nginx default on, inherited http → server → location, overridden', () => {
  const silent = compileServer('location /default { proxy_pass http://up; }');
  assert.equal(proxy(route(silent, 'location /default')).requestBuffering, true);

  // As in nginx, an http-level directive applies to every server, wherever it stands in the block.
  const { config, notices } = compileHttp(`
    server {
      listen 8081;
      location /from-http { proxy_pass http://up; }
      location /on { proxy_request_buffering on; proxy_pass http://up; }
    }
    proxy_request_buffering off;
    server {
      listen 8082;
      proxy_request_buffering on;
      location /from-server { proxy_pass http://up; }
      location /off { proxy_request_buffering off; proxy_pass http://up; }
    }
  `);
  validateConfig(config);
  const buffering = config.servers.map((s) => s.routes.map((r) => [r.name, proxy(r).requestBuffering]));
  assert.deepEqual(buffering, [
    [
      ['location /from-http', false],
      ['location /on', true],
    ],
    [
      ['location /from-server', true],
      ['location /off', false],
    ],
  ]);
  assert.ok(!notices.some((n) => n.includes('proxy_request_buffering')), notices.join('\n'));
  assert.throws(
    () => compileServer('location / { proxy_request_buffering maybe; proxy_pass http://up; }'),
    (e: unknown) => e instanceof NginxConfigError && /proxy_request_buffering/.test(e.reason),
  );
  assert.throws(
    () => compileServer('proxy_request_buffering on; proxy_request_buffering off;'),
    (e: unknown) => e instanceof NginxConfigError && /is duplicate/.test(e.reason),
  );
});

test('rewrite statements: conditions, flags, return, location-level statements', () => {
  const server = compileServer(`
    if ($http_x = "a b") { return 403; }
    if ($http_y != x) { set $z 1; }
    if ($uri ~* ^/UP) { rewrite ^/up(.*)$ /x$1 break; }
    if ($uri !~ ^/v) { return https://example.com$request_uri; }
    if ($uri !~* ^/w) { rewrite ^ /y permanent; }
    location = /ok { return 200 "fine"; }
    location /r { rewrite ^/r(.*)$ /s$1 break; proxy_pass http://up; }
  `);
  assert.deepEqual(
    server.rewrite!.map((s) => (s.type === 'if' ? s.condition : s)),
    [
      { type: 'equals', value: '$http_x', to: 'a b' },
      { type: 'equals', value: '$http_y', to: 'x', negate: true },
      { type: 'matches', value: '$uri', regex: '^/UP', caseInsensitive: true },
      { type: 'matches', value: '$uri', regex: '^/v', negate: true },
      { type: 'matches', value: '$uri', regex: '^/w', caseInsensitive: true, negate: true },
    ],
  );
  assert.deepEqual(server.rewrite![3], {
    type: 'if',
    condition: { type: 'matches', value: '$uri', regex: '^/v', negate: true },
    then: [{ type: 'return', status: 302, body: 'https://example.com$request_uri' }],
  });
  const ok = route(server, 'location = /ok');
  assert.deepEqual(ok.action, { type: 'return', status: 200, body: 'fine' });
  assert.equal(ok.rewrite, undefined);
  assert.deepEqual(route(server, 'location /r').rewrite, [
    { type: 'rewrite', regex: '^/r(.*)$', replacement: '/s$1', flag: 'break' },
  ]);
});

test('maps: exact, regex and default keys', () => {
  const { config } = compileHttp(`
    map $http_user_agent $kind {
      hostnames;
      volatile;
      default other;
      "" none;
      curl cli;
      ~^Mozilla browser;
      ~*bot robot;
      \\~tilde literal;
    }
    server { listen 80; }
  `);
  assert.deepEqual(config.maps, [
    {
      source: '$http_user_agent',
      variable: 'kind',
      default: 'other',
      entries: [
        { key: '', value: 'none' },
        { key: 'curl', value: 'cli' },
        { key: '~tilde', value: 'literal' },
      ],
      regexEntries: [
        { regex: '^Mozilla', value: 'browser' },
        { regex: 'bot', caseInsensitive: true, value: 'robot' },
      ],
    },
  ]);
});

test('server TLS: verify modes, protocol ranges, ciphers, inline PEM', () => {
  const tls = (extra: string) =>
    onlyServer(
      compileHttp(
        `ssl_certificate c.pem; ssl_certificate_key k.pem;\nserver { listen 443 ssl http2; ${extra} }`,
        {
          confDir: '/etc/x',
        },
      ).config,
    ).tls!;
  assert.deepEqual(tls('ssl_verify_client on; ssl_client_certificate /ca.pem;').clientCertificate, {
    mode: 'required',
    caFile: '/ca.pem',
  });
  assert.equal(
    tls('ssl_verify_client optional; ssl_client_certificate ca.pem;').clientCertificate?.caFile,
    '/etc/x/ca.pem',
  );
  assert.equal(tls('ssl_verify_client off;').clientCertificate, undefined);
  const t = tls('ssl_protocols TLSv1.2 TLSv1.3; ssl_ciphers HIGH:!aNULL;');
  assert.deepEqual([t.minVersion, t.maxVersion, t.ciphers], ['TLSv1.2', 'TLSv1.3', 'HIGH:!aNULL']);
  assert.deepEqual(t.certificate, { certFile: '/etc/x/c.pem', keyFile: '/etc/x/k.pem' });
  const server = onlyServer(
    compileHttp(
      'server { listen 127.0.0.1:443 ssl http2; ssl_certificate data:CERT; ssl_certificate_key data:KEY; }',
    ).config,
  );
  assert.deepEqual(server.tls!.certificate, { cert: 'CERT', key: 'KEY' });
  assert.deepEqual(server.listen, [{ address: '127.0.0.1', port: 443, tls: true, http2: true }]);
});

test('listen forms', () => {
  const listens = onlyServer(
    compileHttp(
      'server { listen 80; listen [::1]:81; listen 127.0.0.2; listen *:82 default_server reuseport; }',
    ).config,
  ).listen;
  assert.deepEqual(listens, [
    { address: '0.0.0.0', port: 80 },
    { address: '::1', port: 81 },
    { address: '127.0.0.2', port: 80 },
    { address: '0.0.0.0', port: 82, defaultServer: true },
  ]);
});

test('nginx time and size syntax', () => {
  assert.equal(parseTime('60'), 60_000);
  assert.equal(parseTime('60s'), 60_000);
  assert.equal(parseTime('1m'), 60_000);
  assert.equal(parseTime('1h'), 3_600_000);
  assert.equal(parseTime('500ms'), 500);
  assert.equal(parseTime('1h30m'), 5_400_000);
  assert.equal(parseTime('1d'), 86_400_000);
  for (const bad of ['', '1m1h', 'abc', '1x', '-1', '1.5s', 'm'])
    assert.equal(parseTime(bad), undefined, bad);
  assert.equal(parseSize('0'), 0);
  assert.equal(parseSize('1m'), 1024 * 1024);
  assert.equal(parseSize('10M'), 10 * 1024 * 1024);
  assert.equal(parseSize('1000G'), 1000 * 1024 ** 3);
  assert.equal(parseSize('512'), 512);
  assert.equal(parseSize('8k'), 8192);
  for (const bad of ['', '1t', '1.5m', 'm', '-1']) assert.equal(parseSize(bad), undefined, bad);
});

const COMPILE_ERRORS: Array<[string, string, RegExp, number]> = [
  ['no events', 'http { }', /^no "events" section in configuration$/, 1],
  [
    'flag value',
    'events {}\nhttp {\nproxy_ssl_verify yes;\n}',
    /^invalid value "yes" in "proxy_ssl_verify" directive, it must be "on" or "off"$/,
    3,
  ],
  [
    'time value',
    'events {}\nhttp {\nproxy_read_timeout 1x;\n}',
    /^"proxy_read_timeout" directive invalid value$/,
    3,
  ],
  [
    'size value',
    'events {}\nhttp {\n\nclient_max_body_size 1t;\n}',
    /^"client_max_body_size" directive invalid value$/,
    4,
  ],
  [
    'unknown cache zone',
    'events {}\nhttp { server {\nlocation / {\nproxy_cache z;\nproxy_cache_valid 1m;\nproxy_pass http://u; } } }',
    /^"proxy_cache" zone "z" is unknown$/,
    4,
  ],
  [
    'duplicate location',
    'events {}\nhttp { server {\nlocation /a { }\nlocation /a { }\n} }',
    /^duplicate location "\/a"$/,
    4,
  ],
  [
    'duplicate default server',
    'events {}\nhttp {\nserver { listen 80 default_server; }\nserver { listen 80 default_server; }\n}',
    /^a duplicate default server for 0.0.0.0:80$/,
    4,
  ],
  [
    'invalid port',
    'events {}\nhttp { server {\nlisten 70000;\n} }',
    /^invalid port in "70000" of the "listen" directive$/,
    3,
  ],
  [
    'proxy_pass URL prefix',
    'events {}\nhttp { server { location / {\nproxy_pass ftp://x;\n} } }',
    /^invalid URL prefix in "ftp:\/\/x"$/,
    3,
  ],
  [
    'proxy_pass duplicate',
    'events {}\nhttp { server { location / {\nproxy_pass http://x;\nproxy_pass http://y;\n} } }',
    /^"proxy_pass" directive is duplicate$/,
    4,
  ],
  [
    'URI part in regex location',
    'events {}\nhttp { server { location ~ ^/a {\nproxy_pass http://x/y;\n} } }',
    /cannot have URI part in location given by regular expression/,
    3,
  ],
  ['rewrite flag', 'events {}\nhttp { server {\nrewrite ^ /x later;\n} }', /^invalid parameter "later"$/, 3],
  [
    'invalid regex',
    'events {}\nhttp { server {\nlocation ~ "^(a" { }\n} }',
    /^invalid regular expression "\^\(a"/,
    3,
  ],
  [
    'file test in if',
    'events {}\nhttp { server {\nif (-f $uri) { return 404; }\n} }',
    /^file tests in "if" are not supported/,
    3,
  ],
  [
    'if without variable',
    'events {}\nhttp { server {\nif (abc) { return 404; }\n} }',
    /^invalid condition "abc"$/,
    3,
  ],
  [
    'ssl listener without certificate',
    'events {}\nhttp {\nserver {\nlisten 443 ssl;\n} }',
    /^no "ssl_certificate" is defined/,
    4,
  ],
  [
    'verify client without CA',
    'events {}\nhttp { server {\nlisten 443 ssl; ssl_certificate a; ssl_certificate_key b; ssl_verify_client on;\n} }',
    /^no ssl_client_certificate for ssl_verify_client$/,
    3,
  ],
  [
    'set with a bad variable',
    'events {}\nhttp { server {\nset endpoint x;\n} }',
    /^invalid variable name "endpoint"$/,
    3,
  ],
  ['map duplicate key', 'events {}\nhttp { map $a $b {\nx 1;\nx 2;\n} }', /^conflicting parameter "x"$/, 4],
  [
    'duplicate scalar directive',
    'events {}\nhttp {\nproxy_read_timeout 1s;\nproxy_read_timeout 2s;\n}',
    /^"proxy_read_timeout" directive is duplicate$/,
    4,
  ],
  ['return code', 'events {}\nhttp { server {\nreturn abc;\n} }', /^invalid return code "abc"$/, 3],
  [
    'ssl_protocols value',
    'events {}\nhttp {\nssl_protocols TLSv9;\n}',
    /^invalid value "TLSv9" in "ssl_protocols" directive$/,
    3,
  ],
  [
    'verify without trusted CA',
    'events {}\nhttp { server { location / {\nproxy_ssl_verify on;\nproxy_pass https://x;\n} } }',
    /^no proxy_ssl_trusted_certificate for proxy_ssl_verify$/,
    4,
  ],
];

for (const [name, text, reason, line] of COMPILE_ERRORS) {
  test(`compile error: ${name} (line ${line})`, () => {
    assert.throws(
      () => compile(parse(text, { file: 'c.conf' })),
      (e: unknown) => {
        assert.ok(e instanceof NginxConfigError, `NginxConfigError, got ${String(e)}`);
        assert.match(e.reason, reason);
        assert.equal(e.line, line);
        assert.equal(e.file, 'c.conf');
        return true;
      },
    );
  });
}
