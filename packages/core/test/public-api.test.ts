// The public surface of @gatehouse/core, imported by its package name (so through package.json's
// exports map), is exactly this list: adding or removing an export is a decision made here, not a
// side effect. Types are pinned by public-api.test-d.ts, which `pnpm lint` type-checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';

const PUBLIC = [
  'ConfigError',
  'EDGEMICRO_EVENTS',
  'ERROR_STATUS',
  'Gatehouse',
  'PluginLoadError',
  'ProxyError',
  'UpstreamBusyError',
  'UpstreamConnectError',
  'UpstreamDnsError',
  'UpstreamError',
  'UpstreamProtocolError',
  'UpstreamRequestError',
  'UpstreamResetError',
  'UpstreamTimeoutError',
  'UpstreamTlsError',
  'checkConfig',
  'createGatehouse',
  'createLogger',
  'createPluginLogger',
  'createPluginPipeline',
  'createPluginStats',
  'definePlugin',
  'importPluginModule',
  'initPlugin',
  'jsonRenderer',
  'loadPlugins',
  'nativeHandlers',
  'parseConfigText',
  'pluginConfig',
  'pluginErrorBody',
  'pluginErrorStatus',
  'readConfigFile',
  'startDemoUpstream',
  'tls',
  'validateConfig',
];
const PUBLIC_TLS = [
  'CertificateError',
  'createCertificateAuthority',
  'encryptPrivateKey',
  'issueCertificate',
  'splitPemCertificates',
  'toPkcs12',
];
const INTERNAL = [
  'Router',
  'TemplateError',
  'compileConfig',
  'compileTemplate',
  'egressProxyFromEnv',
  'parseTarget',
  'tls',
];

test('@gatehouse/core exports exactly the public API', async () => {
  const core = await import('@gatehouse/core');
  assert.deepEqual(Object.keys(core).sort(), PUBLIC);
  assert.deepEqual(Object.keys(core.tls).sort(), PUBLIC_TLS);
});

test('compiler internals are only in @gatehouse/core/internal', async () => {
  const internal = await import('@gatehouse/core/internal');
  assert.deepEqual(Object.keys(internal).sort(), INTERNAL);
  const core: Record<string, unknown> = await import('@gatehouse/core');
  for (const name of ['compileConfig', 'Router', 'parseTarget', 'compileTemplate', 'TemplateError'])
    assert.equal(core[name], undefined, name);
});

test('checkConfig reports what only the compiler sees, validateConfig does not', async () => {
  const { checkConfig, validateConfig, ConfigError } = await import('@gatehouse/core');
  const config = {
    servers: [
      {
        listen: [{ port: 0 }],
        routes: [
          { match: { prefix: '/' }, action: { type: 'return', status: 200, body: '$no_such_variable' } },
        ],
      },
    ],
  };
  assert.doesNotThrow(() => validateConfig(config));
  assert.throws(
    () => checkConfig(config, 'example.json'),
    (err: unknown) => err instanceof ConfigError && /no_such_variable/.test(err.message),
  );
  const valid = { ...config, servers: [{ ...config.servers[0]!, routes: [] }] };
  assert.deepEqual(checkConfig(valid).servers.length, 1);
});

test('ERROR_STATUS gives every error code its status', async () => {
  const { ERROR_STATUS, ProxyError } = await import('@gatehouse/core');
  assert.equal(ERROR_STATUS.not_found, 404);
  assert.equal(ERROR_STATUS.upstream_timeout, 504);
  assert.equal(new ProxyError('upstream_reset').status, ERROR_STATUS.upstream_reset);
});
