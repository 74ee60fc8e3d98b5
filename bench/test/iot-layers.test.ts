import { test } from 'node:test';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  gatehouseLayerConfig,
  layerEnv,
  MODULE_ID,
  layerName,
  nginxLayerConf,
  type LayerPorts,
} from '../src/peers/iot-layers.js';
import { cpuSeconds, peakRss, processTree } from '../src/proc/stats.js';

const ports: LayerPorts = { layers: [9443, 9444], origin: 9000 };
const TOP = 0;
const LOWER = 1;

test('layer environments: both dial and listen on the top port; the lower one names its parent', () => {
  assert.deepEqual(layerEnv(TOP, ports), {
    NGINX_DEFAULT_PORT: '9443',
    IOTEDGE_MODULEID: MODULE_ID,
    DOCKER_REQUEST_ROUTE_ADDRESS: 'registry:9000',
  });
  assert.deepEqual(layerEnv(LOWER, ports), {
    NGINX_DEFAULT_PORT: '9443',
    IOTEDGE_MODULEID: MODULE_ID,
    IOTEDGE_PARENTHOSTNAME: 'parent',
  });
});

test('three layers: each layer below the top dials its own parent; names top, middle1, bottom', () => {
  const three: LayerPorts = { layers: [9443, 9444, 9445], origin: 9000 };
  assert.equal(layerEnv(1, three).NGINX_DEFAULT_PORT, '9443');
  assert.equal(layerEnv(2, three).NGINX_DEFAULT_PORT, '9444');
  assert.deepEqual(
    [0, 1, 2].map((l) => layerName(l, 3)),
    ['top', 'middle1', 'bottom'],
  );
  const bottom = gatehouseLayerConfig(2, three, '/conf/bottom');
  assert.deepEqual(
    bottom.servers.flatMap((s) => s.listen.map((l) => l.port)),
    [9445],
  );
  const parent = bottom.servers[0]!.routes.find((r) => r.name === 'location ~^/parent/(.*)');
  assert.ok(parent && parent.action.type === 'proxy');
  assert.equal(parent.action.upstream, 'https://parent:9444$request_uri');
  const dir = mkdtempSync(join(tmpdir(), 'bench-iot-test-'));
  try {
    const middle = nginxLayerConf(1, three, { dir, dnsPort: 5353 });
    assert.match(middle, /listen 127\.0\.0\.1:9444 ssl default_server;/);
    assert.match(middle, /proxy_pass https:\/\/parent:9443\$request_uri;/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('gatehouse layers: compiled from the default template, loopback listeners and host map', () => {
  const top = gatehouseLayerConfig(TOP, ports, '/conf/top');
  const lower = gatehouseLayerConfig(LOWER, ports, '/conf/lower');
  assert.deepEqual(
    top.servers.flatMap((s) => s.listen.map((l) => [l.address, l.port, l.tls])),
    [['127.0.0.1', 9443, true]],
  );
  assert.deepEqual(
    lower.servers.flatMap((s) => s.listen.map((l) => [l.address, l.port, l.tls])),
    [['127.0.0.1', 9444, true]],
  );
  assert.equal(top.hosts?.['registry'], '127.0.0.1');
  assert.equal(lower.hosts?.['parent'], '127.0.0.1');
  assert.equal(lower.servers[0]!.tls?.certificate?.certFile, '/conf/lower/server.crt');
  // The lower layer's parent route: TLS to parent:<top port>, verified as the module id.
  const parent = lower.servers[0]!.routes.find((r) => r.name === 'location ~^/parent/(.*)');
  assert.ok(parent && parent.action.type === 'proxy');
  assert.equal(parent.action.upstream, 'https://parent:9443$request_uri');
  assert.equal(parent.action.options?.tls?.name, MODULE_ID);
  assert.equal(parent.action.options?.tls?.caFile, '/conf/lower/trustedCA.crt');
  // The top layer sends the registry path to the origin.
  assert.match(JSON.stringify(top), /http:\/\/registry:9000\$request_uri/);
});

test('nginx layers: the rendered template with only the loopback substitutions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-iot-test-'));
  try {
    const top = nginxLayerConf(TOP, ports, { dir, dnsPort: 5353 });
    const lower = nginxLayerConf(LOWER, ports, { dir, dnsPort: 5353 });
    assert.match(top, /^user root;\n/);
    assert.match(top, /listen 127\.0\.0\.1:9443 ssl default_server;/);
    assert.match(lower, /listen 127\.0\.0\.1:9444 ssl default_server;/);
    for (const conf of [top, lower]) {
      assert.doesNotMatch(conf, /127\.0\.0\.11/);
      assert.doesNotMatch(conf, /\/var\/cache\/nginx/);
      assert.match(conf, /resolver 127\.0\.0\.1:5353;/);
      // Verbatim template parts: relative certificates, logs to /dev/stdout, TLS 1.2 only.
      assert.match(conf, /ssl_certificate {8}server\.crt;/);
      assert.match(conf, /access_log \/dev\/stdout;/);
      assert.match(conf, /ssl_protocols TLSv1\.2;/);
    }
    assert.match(top, /set \$endpoint http:\/\/registry:9000\$request_uri;/);
    assert.match(lower, /proxy_pass https:\/\/parent:9443\$request_uri;/);
    assert.match(lower, /proxy_ssl_name apiproxy;/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('process accounting over several roots: each process once, figures summed', async () => {
  // Two childless processes of our own: this test process's tree changes (tsx's esbuild service).
  const a = spawn('sleep', ['5']);
  const b = spawn('sleep', ['5']);
  try {
    await Promise.all([once(a, 'spawn'), once(b, 'spawn')]);
    assert.deepEqual(processTree([a.pid!, a.pid!]), [a.pid]);
    assert.deepEqual(processTree([a.pid!, b.pid!]).sort(), [a.pid!, b.pid!].sort());
    assert.equal(peakRss([a.pid!, a.pid!]), peakRss(a.pid!));
    assert.equal(peakRss([a.pid!, b.pid!]), peakRss(a.pid!) + peakRss(b.pid!));
    assert.ok(cpuSeconds([process.pid]) > 0);
  } finally {
    a.kill();
    b.kill();
  }
});
