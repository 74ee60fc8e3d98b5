// A cluster worker running the real engine with oauth + quota (allow from QUOTA_ALLOW) against the
// upstream at UPSTREAM_PORT, verifying tokens with the PEM in JWT_PUBLIC_PEM. Workers listen on one
// port the cluster shares; counters go to the master's counter service.
import { closeCounterStores } from '../../../src/plugins/registry.js';
import { pluginContext } from './fixture.js';
import { startGateway } from './gateway.js';

const publicPem = process.env.JWT_PUBLIC_PEM!;
const keys = { publicPem } as Parameters<typeof pluginContext>[0];
const ctx = pluginContext(keys, undefined, {});
const g = await startGateway(
  Number(process.env.UPSTREAM_PORT),
  [{ name: 'edgemicro_shop', basePath: '/shop', plugins: ['oauth', 'quota'] }],
  {
    ...ctx,
    edge: {
      proxies: [],
      keys: { publicKeyPem: publicPem },
      products: [
        {
          name: 'shop-quota',
          apiResources: ['/**'],
          proxies: ['edgemicro_shop'],
          environments: ['test'],
          scopes: [],
          quota: { allow: Number(process.env.QUOTA_ALLOW), interval: 1, timeUnit: 'minute' },
        },
      ],
    },
  },
  undefined,
  Number(process.env.GATEWAY_PORT),
);
process.send!({ type: 'listening', port: g.port, pid: process.pid });
process.on('message', (m: { type?: string }) => {
  if (m?.type !== 'stop') return;
  void g
    .close()
    .then(closeCounterStores)
    .then(() => process.disconnect());
});
