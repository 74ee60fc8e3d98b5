// Loading plugins the edgemicro way: by name from a directory (CommonJS and ESM), in sequence order,
// built-ins winning over the directory, edgemicro's config composition, clear errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  loadPlugins,
  pluginConfig,
  PluginLoadError,
  type EdgemicroHandlers,
  type Handler3,
  type PluginConfig,
} from '../src/pipeline/index.js';
import { PLUGIN_DIR, silent } from './fixtures/plugins/harness.js';

test('CommonJS and ESM plugins load from the directory in sequence order', async () => {
  const plugins = await loadPlugins({
    dir: PLUGIN_DIR,
    sequence: ['add-headers', 'response-uppercase', 'reject'],
    logger: silent,
  });
  assert.deepEqual(
    plugins.map((p) => p.name),
    ['add-headers', 'response-uppercase', 'reject'],
  );
  assert.equal(typeof plugins[0]!.handlers.onrequest, 'function', 'ESM add-headers');
  assert.equal(typeof plugins[1]!.handlers.ondata_response, 'function', 'CJS response-uppercase');
  assert.equal(plugins[1]!.handlers.id, 'response-uppercase');
});

test('a missing plugin is an error naming it and the directory', async () => {
  await assert.rejects(
    loadPlugins({ dir: PLUGIN_DIR, sequence: ['reject', 'nope'], logger: silent }),
    (err: unknown) => {
      assert.ok(err instanceof PluginLoadError);
      assert.equal(err.plugin, 'nope');
      assert.match(err.message, /"nope" not found/);
      assert.ok(err.message.includes(PLUGIN_DIR));
      return true;
    },
  );
  await assert.rejects(
    loadPlugins({ dir: PLUGIN_DIR, sequence: ['../plugins'], logger: silent }),
    /invalid plugin name/,
  );
});

test('a built-in wins over a directory plugin of the same name; init gets config[name] + emgConfigs + key/secret', async () => {
  let seen: PluginConfig | undefined;
  const onrequest: Handler3 = (_req, _res, next) => next();
  const handlers: EdgemicroHandlers = { onrequest };
  const plugins = await loadPlugins({
    dir: PLUGIN_DIR,
    sequence: ['reject'],
    builtins: {
      reject: {
        init(config) {
          seen = config;
          return handlers;
        },
      },
    },
    knownPluginNames: ['oauth'],
    config: {
      reject: { level: 3 },
      oauth: { secretish: 1 },
      quotas: {},
      edgemicro: { port: 8000 },
      headers: { via: false },
      keys: { key: 'k', secret: 's' },
    },
    logger: silent,
  });
  assert.equal(plugins[0]!.handlers, handlers);
  assert.equal(seen?.level, 3);
  assert.equal(seen?.key, 'k');
  assert.equal(seen?.secret, 's');
  assert.deepEqual(Object.keys(seen?.emgConfigs ?? {}).sort(), ['edgemicro', 'headers', 'keys']);
});

test('pluginConfig: a plugin without a section gets {} plus the shared sections', () => {
  const c = pluginConfig('x', { edgemicro: { a: 1 }, x: undefined }, new Set(['x']));
  assert.deepEqual(c, { emgConfigs: { edgemicro: { a: 1 } } });
});

test('init that returns no object, or throws, is a load error naming the plugin', async () => {
  await assert.rejects(
    loadPlugins({ sequence: ['bad'], builtins: { bad: () => undefined as never }, logger: silent }),
    /plugin "bad": init must return an object/,
  );
  await assert.rejects(
    loadPlugins({
      sequence: ['bad'],
      builtins: {
        bad: () => {
          throw new Error('no config');
        },
      },
      logger: silent,
    }),
    /plugin "bad": init failed: no config/,
  );
});
