// The scenario table. Add a scenario by appending an entry; the runner, reports and chart pick it up.
import { fileURLToPath } from 'node:url';
import { LAYER_BLOB, SMALL_BODY } from '../env/origin.js';
import { GATEWAY_BENCH_KEY, startGateway } from '../peers/gateway.js';
import { iotLayers } from '../peers/iot-layers.js';
import type { Scenario } from './types.js';

const ROUTES = 10000;

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'small',
    title: 'small responses (12 B), HTTP/1.1 keep-alive, 50 connections',
    spec: {},
    load: { kind: 'wrk', path: '/', connections: 50 },
    primary: 'reqPerCpuSecond',
  },
  {
    name: 'body-1m',
    title: '1 MiB responses, keep-alive, 8 connections',
    spec: {},
    load: { kind: 'wrk', path: '/files/1m.bin', connections: 8 },
    primary: 'mbPerSecond',
  },
  {
    // Dynamic upstreams often send no length: the proxy decodes chunked framing and re-frames it.
    // The origin's SSI filter bounds the rate, so the figure is requests per proxy CPU-second.
    name: 'chunked-1m',
    title: '1 MiB chunked responses (upstream sends no length), keep-alive, 8 connections',
    spec: {},
    load: { kind: 'wrk', path: '/chunked/1m.bin', connections: 8 },
    primary: 'reqPerCpuSecond',
  },
  {
    name: 'body-64m',
    title: '64 MiB responses, one connection (single stream)',
    spec: {},
    load: { kind: 'wrk', path: '/files/64m.bin', connections: 1 },
    primary: 'mbPerSecond',
  },
  {
    name: 'body-64m-x8',
    title: '64 MiB responses, 8 parallel connections',
    spec: {},
    load: { kind: 'wrk', path: '/files/64m.bin', connections: 8 },
    primary: 'mbPerSecond',
    quick: false,
  },
  {
    name: 'upload-64k',
    title: 'POST with a 64 KiB request body, small response, 16 connections',
    spec: {},
    load: { kind: 'wrk', path: '/', connections: 16, postBytes: 64 * 1024 },
    primary: 'reqPerCpuSecond',
  },
  {
    name: 'https-keepalive',
    title: 'HTTPS (TLS 1.3, ECDSA P-256) keep-alive, small responses, 50 connections',
    spec: { tls: 'ecdsa' },
    load: { kind: 'wrk', path: '/', connections: 50 },
    primary: 'reqPerCpuSecond',
  },
  {
    name: 'tls-handshake-rsa',
    title: 'full TLS handshakes, RSA-2048 (Connection: close, no resumption), 32 connections',
    spec: { tls: 'rsa' },
    load: { kind: 'wrk', path: '/', connections: 32, headers: ['Connection: close'] },
    primary: 'requestsPerSecond',
  },
  {
    name: 'tls-handshake-ecdsa',
    title: 'full TLS handshakes, ECDSA P-256 (Connection: close, no resumption), 32 connections',
    spec: { tls: 'ecdsa' },
    load: { kind: 'wrk', path: '/', connections: 32, headers: ['Connection: close'] },
    primary: 'requestsPerSecond',
  },
  {
    name: 'http2',
    title: 'HTTP/2 over TLS (ALPN h2), 10 connections × 10 streams, small responses',
    spec: { tls: 'ecdsa', http2: true },
    load: { kind: 'h2load', path: '/', clients: 10, streams: 10 },
    primary: 'reqPerCpuSecond',
  },
  {
    name: 'routes-1',
    title: 'one prefix route, request hits it (baseline for routes-10k)',
    spec: { routes: 1 },
    load: { kind: 'wrk', path: '/r00000/x', connections: 50 },
    primary: 'reqPerCpuSecond',
    systems: ['gatehouse', 'nginx'],
  },
  {
    name: 'routes-10k',
    title: `${ROUTES.toLocaleString('en-US')} prefix routes /r00000…, request hits the last one`,
    spec: { routes: ROUTES },
    load: { kind: 'wrk', path: `/r${String(ROUTES - 1).padStart(5, '0')}/x`, connections: 50 },
    primary: 'reqPerCpuSecond',
    systems: ['gatehouse', 'nginx'],
  },
  {
    name: 'idle-10k',
    title: '10,000 idle keep-alive connections (one request each, then idle): proxy memory',
    spec: { maxConnections: 10000 },
    load: { kind: 'idle', path: '/', connections: 10000 },
    primary: 'rssMiB',
  },
  {
    name: 'plugins-3',
    title: 'three-plugin chain, onrequest/onresponse hooks only (body streams untouched)',
    spec: {},
    load: { kind: 'wrk', path: '/', connections: 50 },
    primary: 'reqPerCpuSecond',
    systems: ['gatehouse', 'nginx', 'microgateway-core'],
    gatehouseConfig: (config) => withPlugins(config, ['bench-header-a', 'bench-header-b', 'bench-header-c']),
  },
  {
    name: 'plugins-3-data',
    title: 'three-plugin chain with ondata_request/ondata_response hooks (every chunk through JS)',
    spec: {},
    load: { kind: 'wrk', path: '/files/1m.bin', connections: 8 },
    primary: 'mbPerSecond',
    systems: ['gatehouse', 'nginx', 'microgateway-core'],
    gatehouseConfig: (config) => withPlugins(config, ['bench-data-a', 'bench-data-b', 'bench-data-c']),
  },
  {
    name: 'gateway-bare',
    title: 'gateway (edgemicro config, standalone, one worker), no plugins, small responses, 50 connections',
    spec: {},
    load: { kind: 'wrk', path: '/', connections: 50 },
    primary: 'reqPerCpuSecond',
    systems: ['gatehouse', 'nginx', 'microgateway-core'],
    start: { gatehouse: startGateway('bare') },
    smokeBody: SMALL_BODY,
    note:
      '`gatehouse` here is packages/gateway: `edgemicro start --standalone … -p 1` (master + one worker, ' +
      'both pinned to the proxy core, CPU summed over both) with an empty `plugins.sequence`, one proxy ' +
      'at base path `/` and the header options of the microgateway-core peer (also no plugins). Compare ' +
      'its ratio to nginx with the `small` scenario’s (the engine alone).',
  },
  {
    name: 'gateway-oauth-quota',
    title: 'gateway: oauth (API key, verified-token cache) + quota on every request',
    spec: {},
    load: { kind: 'wrk', path: '/', connections: 50, headers: [`x-api-key: ${GATEWAY_BENCH_KEY}`] },
    primary: 'reqPerCpuSecond',
    systems: ['gatehouse', 'nginx', 'microgateway-core'],
    start: { gatehouse: startGateway('oauth-quota') },
    smokeBody: SMALL_BODY,
    note:
      '`gatehouse` here is packages/gateway as in gateway-bare with `plugins.sequence: [oauth, quota]`: ' +
      'every request carries an app’s API key (verified once against the standalone file, then cached) ' +
      'and is counted against its product’s quota (10^9 per minute, never trips; X-RateLimit-* headers ' +
      'sent). microgateway-core runs with no plugins at all (issue 25 compares against its bare rate; ' +
      'with its own oauth + quota it calls verifyApiKey on every request).',
  },
  {
    name: 'iot-v2-two-layers',
    title: 'iot-module default template, /v2 path through two layers (lower → top → registry), TLS 1.2',
    spec: { tls: 'ecdsa' },
    load: { kind: 'wrk', path: '/v2/', connections: 50 },
    primary: 'reqPerCpuSecond',
    systems: ['gatehouse', 'nginx'],
    start: iotLayers(2),
    smokeBody: SMALL_BODY,
    note:
      'Each system is two processes of the same product: the lower layer (the load hits its `/v2/` over ' +
      'TLS 1.2) proxies to its parent, the top layer, over TLS verified against the run’s CA as ' +
      '`proxy_ssl_name apiproxy`; the top layer proxies to the registry (the origin). Both run the ' +
      'packaged default template rendered for their env (top: `DOCKER_REQUEST_ROUTE_ADDRESS=registry:<origin>`; ' +
      'lower: `IOTEDGE_PARENTHOSTNAME=parent`; both `IOTEDGE_MODULEID=apiproxy`, `NGINX_DEFAULT_PORT=<top port>`): ' +
      'Gatehouse serves the native config the iot-module compiler makes of it, nginx the rendered text. ' +
      'Both layers are pinned to the proxy core; req/CPU-s, CPU % and RSS are the sums over both layers. ' +
      'Loopback substitutions, alike for both: listeners on 127.0.0.1 (the lower layer on a port of its ' +
      'own), `registry` and `parent` → 127.0.0.1 (Gatehouse: the compiler’s hosts map; nginx: its ' +
      '`resolver` pointed at a loopback DNS stand-in), `/dev/stdout` logs to a file. Template defaults ' +
      'stay: access log on, nginx opens a new upstream connection per request (no keep-alive in the ' +
      'template), Gatehouse pools upstream connections (its default).',
  },
  {
    name: 'iot-v2-three-layers',
    title:
      'iot-module default template, /v2 path through three layers (bottom → middle → top → registry), TLS 1.2',
    spec: { tls: 'ecdsa' },
    load: { kind: 'wrk', path: '/v2/', connections: 50 },
    primary: 'reqPerCpuSecond',
    systems: ['gatehouse', 'nginx'],
    start: iotLayers(3),
    smokeBody: SMALL_BODY,
    note:
      'As iot-v2-two-layers with a middle layer: each layer below the top dials its parent ' +
      '(`IOTEDGE_PARENTHOSTNAME=parent`, `NGINX_DEFAULT_PORT=<parent port>`), every layer with its own ' +
      'certificate from the run’s CA. req/CPU-s, CPU % and RSS are the sums over the three layers.',
  },
  {
    name: 'iot-layer-pull-1g',
    title: 'iot-module default template: 1 GiB image layer pulled through three layers, one connection',
    spec: { tls: 'ecdsa' },
    load: { kind: 'wrk', path: LAYER_BLOB.path, connections: 1 },
    primary: 'mbPerSecond',
    systems: ['gatehouse', 'nginx'],
    start: iotLayers(3),
    quick: false,
    note:
      'The three-layer chain of iot-v2-three-layers; the registry (origin nginx) serves a 1 GiB blob at ' +
      `\`${LAYER_BLOB.path}\` (a sparse file: zeros from the page cache). wrk pulls it over and over on one ` +
      'connection from the bottom layer; MB/s is what the client read, peak RSS the sum of the three ' +
      'layers’ VmHWM.',
  },
  {
    name: 'websocket',
    title: 'WebSocket round trips of 128 B messages through the proxy to an echo upstream, 50 connections',
    spec: { websocket: true },
    load: { kind: 'ws', path: '/', connections: 50, messageBytes: 128 },
    primary: 'reqPerCpuSecond',
  },
];

/** edgemicro-style sample plugins used by the plugin scenarios (the engine's test fixtures). */
const PLUGIN_DIR = fileURLToPath(new URL('../../../packages/core/test/fixtures/plugins', import.meta.url));

/** Put the same plugin list on every route (the hook the plugin scenarios use). */
function withPlugins(config: Parameters<NonNullable<Scenario['gatehouseConfig']>>[0], plugins: string[]) {
  return {
    ...config,
    plugins: { dir: PLUGIN_DIR },
    servers: config.servers.map((s) => ({ ...s, routes: s.routes.map((r) => ({ ...r, plugins })) })),
  };
}
