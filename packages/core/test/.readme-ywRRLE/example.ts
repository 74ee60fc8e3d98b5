import {
  createGatehouse,
  startDemoUpstream,
  type GatehouseConfig,
} from '/work/main/packages/core/src/index.js';

const upstream = await startDemoUpstream(); // a small echo server on 127.0.0.1
const config: GatehouseConfig = {
  servers: [
    {
      listen: [{ address: '127.0.0.1', port: 0 }], // 0: any free port, read it back below
      routes: [
        // edgemicro base path: /v1/items?x=1 → http://127.0.0.1:<port>/api/items?x=1
        { match: { basePath: '/v1' }, action: { type: 'proxy', upstream: 'api' } },
        // nginx `location = /health { return 200 "ok\n"; }`
        { match: { exact: '/health' }, action: { type: 'return', status: 200, body: 'ok\n' } },
      ],
    },
  ],
  upstreams: { api: { url: `http://127.0.0.1:${upstream.port}/api`, readTimeoutMs: 30_000 } },
  limits: { maxBodySize: 10 * 1024 * 1024 },
};
const gh = createGatehouse({ config });
await gh.start();
const { port } = gh.addresses()[0]!;
const res = await fetch(`http://127.0.0.1:${port}/v1/items?x=1`);
console.log(res.status, ((await res.json()) as { url: string }).url); // 200 /api/items?x=1
// Validated and compiled first: an invalid config throws and the running one keeps serving.
await gh.reload({ ...config, limits: { maxBodySize: 1024 } });
await gh.close(); // stop accepting, drain in-flight requests, close
await upstream.close();
