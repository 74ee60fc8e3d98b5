// The configuration pipeline (template → nginx → native config) and the `iot-module` CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli/main.js';
import {
  DEFAULT_TEMPLATE_PATH,
  RenderedConfigError,
  loadProxyConfig,
  readDefaultTemplate,
  renderAndCheck,
  templateLineOf,
} from '../src/config/index.js';
import { NginxConfigError, TemplateError } from '../src/index.js';

const TOP = {
  DOCKER_REQUEST_ROUTE_ADDRESS: 'registry:5000',
  BLOB_UPLOAD_ROUTE_ADDRESS: 'AzureBlobStorageonIoTEdge:11002',
};

test('the default template compiles for the top layer into the expected locations', () => {
  const { config, rendered, notices } = loadProxyConfig({
    template: readDefaultTemplate(),
    env: TOP,
    confDir: '/app',
    hosts: { edgehub: '10.0.0.5' },
  });
  assert.doesNotMatch(rendered, /\$\{/, 'every template variable substituted');
  assert.match(rendered, /set \$endpoint http:\/\/registry:5000\$request_uri;/);
  const server = config.servers[0]!;
  assert.deepEqual(server.listen, [
    { address: '0.0.0.0', port: 443, tls: true, defaultServer: true, http2: false },
  ]);
  assert.deepEqual(
    server.routes.map((r) => r.name),
    [
      'location ~^/registry/(.*)',
      'location ~^/storage/(.*)',
      'location ~^/devices|twins/',
      'location ~^/.iothub/websocket',
      'location = /auth',
    ],
  );
  assert.equal(server.tls?.certificate?.certFile, '/app/server.crt');
  assert.equal(server.routes[0]!.maxBodySize, 1024 * 1024, 'nginx default body limit');
  assert.deepEqual(config.hosts, { edgehub: '10.0.0.5' });
  assert.ok(notices.some((n) => n.source === 'nginx' && /resolver/.test(n.message)));
});

test('options: reserved token port, body-limit default, listen address', () => {
  const { config, rendered } = loadProxyConfig({
    template: readDefaultTemplate(),
    env: { ...TOP, TOKEN_SERVER_PORT: '9999' },
    confDir: '/app',
    reserved: { TOKEN_SERVER_PORT: '7001' },
    defaultMaxBodySize: 0,
    listenAddress: '127.0.0.3',
  });
  assert.match(
    rendered,
    /http:\/\/127\.0\.0\.1:7001;/,
    'env cannot override the reserved value; the option can',
  );
  assert.equal(config.servers[0]!.listen[0]!.address, '127.0.0.3');
  assert.equal(config.servers[0]!.routes[0]!.maxBodySize, 0);
});

test('a template error is a TemplateError with its line', () => {
  const template = 'events {}\nhttp {\n#if_tag ${X}\n}\n';
  assert.throws(
    () => loadProxyConfig({ template, env: {}, confDir: '/app' }),
    (err: unknown) => {
      assert.ok(err instanceof TemplateError);
      assert.equal(err.line, 3);
      assert.equal(err.code, 'UNCLOSED_IF_TAG');
      return true;
    },
  );
});

test('an nginx error names the template line, even after a removed block', () => {
  const template = [
    'events {}',
    'http {',
    '    #if_tag ${NOPE}',
    '    a;',
    '    b;',
    '    #endif_tag ${NOPE}',
    '    server {',
    '        listen ${PORT};',
    '        bogus on;',
    '    }',
    '}',
    '',
  ].join('\r\n');
  assert.throws(
    () => loadProxyConfig({ template, env: { PORT: '8080' }, confDir: '/app', templateFile: 'twin.conf' }),
    (err: unknown) => {
      assert.ok(err instanceof NginxConfigError, 'still an NginxConfigError');
      assert.ok(err instanceof RenderedConfigError);
      assert.equal(err.reason, 'unknown directive "bogus"');
      assert.equal(err.file, 'twin.conf');
      assert.equal(err.line, 9);
      assert.equal(err.renderedLine, 6);
      assert.equal(err.renderedText.trim(), 'bogus on;');
      return true;
    },
  );
});

test('templateLineOf maps rendered lines through removed and kept blocks', () => {
  const template = 'a\n#if_tag ${A}\nb\n#endif_tag ${A}\nc\n#if_tag ${B}\nd\n#endif_tag ${B}\ne\n';
  // A removed (0), B kept: rendered = a, "", c, #if_tag 1, d, #endif_tag 1, e
  const options = { env: { B: '1' } };
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7].map((l) => templateLineOf(template, options, l)),
    [1, 2, 5, 6, 7, 8, 9],
  );
  assert.equal(templateLineOf(template, options, 99), undefined);
});

test('renderAndCheck reports instead of throwing', () => {
  const bad = renderAndCheck({
    template: 'events {}\nhttp { server { listen 80 } }\n',
    env: {},
    confDir: '/app',
    templateFile: 'x.conf',
  });
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.match(bad.message, /^x\.conf:2: /);
  const good = renderAndCheck({
    template: readDefaultTemplate(),
    env: TOP,
    confDir: '/app',
    templateFile: 'd.conf',
  });
  assert.equal(good.ok, true);
  if (good.ok)
    assert.ok(
      good.summary.some(
        (l) =>
          l.includes('regex ~  ^/registry/(.*)') && l.includes('target url') && l.includes('body limit 1M'),
      ),
    );
});

function capture(argv: string[], env: Record<string, string | undefined> = {}) {
  let out = '';
  let err = '';
  const code = main(argv, env, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

test('cli check: the default template, top layer', () => {
  const r = capture(['check'], TOP);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /listen 0\.0\.0\.0:443 \(tls, default_server\)/);
  assert.match(r.out, /if \(\$uri ~ \^\/v2\*\.\)\n\s+rewrite \^\(\.\*\)\$ \/registry\$1 last/);
  assert.match(r.out, /exact    = \/auth .*internal/);
  assert.match(
    r.out,
    /regex ~  \^\/devices\|twins\/  → \$edge_hub_endpoint, target request_uri, tls no-verify, auth \/auth, body limit 1M/,
  );
  assert.match(
    r.out.trimEnd().split('\n').at(-1)!,
    /nginx_default_config\.conf rendered and compiled; the configuration is valid$/,
  );
});

test('cli check: --max-body-size, errors name file:line, exit codes', () => {
  assert.match(capture(['check', '--max-body-size', '0'], TOP).out, /body limit unlimited/);
  assert.equal(capture(['check', '--max-body-size', 'lots']).code, 2);
  const dir = mkdtempSync(join(tmpdir(), 'iot-cli-'));
  try {
    const file = join(dir, 'proxy.conf');
    writeFileSync(
      file,
      'events {}\nhttp {\n  server {\n    listen ${P} ssl;\n    proxy_pass_it_on x;\n  }\n}\n',
    );
    const r = capture(['check', '--template', file], { P: '1' });
    assert.equal(r.code, 1);
    assert.match(r.err, new RegExp(`${file}:5: unknown directive "proxy_pass_it_on"`));
    writeFileSync(file, 'events {}\n#endif_tag ${X}\n');
    const t = capture(['check', '--template', file]);
    assert.equal(t.code, 1);
    assert.match(t.err, new RegExp(`${file}:2: template error`));
    assert.equal(capture(['check', '--template', join(dir, 'missing.conf')]).code, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cli render, run, usage', async () => {
  const r = capture(['render'], TOP);
  assert.equal(r.code, 0);
  assert.match(r.out, /#if_tag registry:5000/);
  // run without the IoT Edge environment: exit 1 naming every missing variable, nothing started.
  let runErr = '';
  const runCode = await main(['run'], {}, { out: () => undefined, err: (t) => (runErr += t) });
  assert.equal(runCode, 1);
  assert.match(
    runErr,
    /missing environment variables: IOTEDGE_DEVICEID, IOTEDGE_MODULEID, .*IOTEDGE_WORKLOADURI/,
  );
  assert.equal(capture(['frobnicate']).code, 2);
  assert.equal(capture([]).code, 2);
  assert.equal(capture(['--help']).code, 0);
});

test('cli as a program: exit status and last line', () => {
  const cli = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
  const ok = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', cli, 'check'], {
    encoding: 'utf8',
    env: { ...process.env, ...TOP },
    timeout: 30_000,
  });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /the configuration is valid\n$/);
  const bad = spawnSync(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', cli, 'check', '--template', '/nonexistent.conf'],
    {
      encoding: 'utf8',
      timeout: 30_000,
    },
  );
  assert.equal(bad.status, 1);
  assert.ok(DEFAULT_TEMPLATE_PATH.endsWith('templates/nginx_default_config.conf'));
});
