// The demo's native config: a few routes in front of the built-in demo upstream, and a page on `/`
// that names them, so that the first request a new user makes is answered.
import type { GatehouseConfig } from '../config/types.js';

export const DEMO_INDEX = `Gatehouse demo proxy. Try:
  /hello          proxied to the demo upstream
  /api/anything   base path /api, proxied to the upstream's /echo/anything (it echoes the request)
  /teapot         answered by the proxy itself (418)
  /nowhere        no route: a 404 JSON error
Metrics: /metrics on the admin port printed at start-up.
`;

export function demoConfig(port: number, upstreamPort: number): GatehouseConfig {
  return {
    servers: [
      {
        name: 'demo',
        listen: [{ address: '127.0.0.1', port }],
        routes: [
          {
            name: 'index',
            match: { exact: '/' },
            action: {
              type: 'return',
              status: 200,
              body: DEMO_INDEX,
              headers: [{ name: 'content-type', value: 'text/plain; charset=utf-8' }],
            },
          },
          { name: 'hello', match: { exact: '/hello' }, action: { type: 'proxy', upstream: 'demo' } },
          { name: 'api', match: { basePath: '/api' }, action: { type: 'proxy', upstream: 'demo-echo' } },
          {
            name: 'teapot',
            match: { exact: '/teapot' },
            action: { type: 'return', status: 418, body: "I'm a teapot\n" },
          },
        ],
      },
    ],
    upstreams: {
      demo: { url: `http://127.0.0.1:${upstreamPort}` },
      'demo-echo': { url: `http://127.0.0.1:${upstreamPort}/echo` },
    },
    headers: { xForwardedProto: 'set', xForwardedHost: 'set', via: 'gatehouse' },
    log: { level: 'info', access: true },
    admin: { port: 0 },
  };
}
