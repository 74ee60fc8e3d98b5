// Connection-level behaviour of the default template, Debian nginx 1.22 as the oracle (issue 27, "behave
// like the module does today"): response fields of a kept-alive answer (Date, Connection, no Keep-Alive),
// plain HTTP sent to the TLS port, a client certificate that fails verification, the proxy's own 400s.
// Both run the same rendered top-layer template behind the same recording upstreams. Skips without nginx.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { createGatehouse, type Gatehouse } from '@gatehouse/core';
import { nginxUnavailable, startNginx, type NginxProcess } from '../helpers/nginx.js';
import { closedPort } from '../helpers/engine.js';
import { startDnsResponder, type DnsResponder } from '../helpers/dns-responder.js';
import {
  createIotPki,
  LOOPBACK_NAMES,
  renderLayer,
  startRecorder,
  startTokenServer,
  upstreamPorts,
  type IotPki,
  type Recorded,
  type Recorder,
  type TokenServer,
} from '../../packages/iot-module/test/golden-harness.js';

interface Exchange {
  /** The response head (status line and fields, lower-cased names), or undefined when none came. */
  status: number | undefined;
  fields: Map<string, string>;
  /** The server closed the connection after the answer (within the wait). */
  closed: boolean;
  raw: string;
}

function parse(raw: string, closed: boolean): Exchange {
  const end = raw.indexOf('\r\n\r\n');
  const head = end === -1 ? '' : raw.slice(0, end);
  const lines = head.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  const fields = new Map<string, string>();
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) fields.set(l.slice(0, i).toLowerCase(), l.slice(i + 1).trim());
  }
  return { status: m ? Number(m[1]) : undefined, fields, closed, raw };
}

/** Write `data` on `socket`, collect what comes back until the peer closes or `waitMs` passes. */
async function exchange(socket: net.Socket, data: string, waitMs = 1500): Promise<Exchange> {
  let raw = '';
  let closed = false;
  socket.setEncoding('latin1');
  socket.on('data', (c: string) => (raw += c));
  socket.on('error', () => undefined);
  const ended = new Promise<void>((r) => socket.once('close', () => r()));
  socket.write(data);
  await Promise.race([ended.then(() => (closed = true)), new Promise((r) => setTimeout(r, waitMs))]);
  socket.destroy();
  return parse(raw, closed);
}

async function tlsSocket(port: number, opts: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
  const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts });
  await once(s, 'secureConnect');
  return s;
}

async function plainSocket(port: number): Promise<net.Socket> {
  const s = net.connect(port, '127.0.0.1');
  await once(s, 'connect');
  return s;
}

const unavailable = nginxUnavailable();

describe(
  'connection behaviour: Debian nginx vs the iot-module (default template, top layer)',
  { skip: unavailable ?? false },
  () => {
    let pki: IotPki;
    const received: Recorded[] = [];
    let recorders: Recorder[] = [];
    let token: TokenServer;
    let dns: DnsResponder;
    let nginx: NginxProcess;
    let gh: Gatehouse;
    const ports = { nginx: 0, ours: 0 };

    before(async () => {
      pki = createIotPki();
      recorders = await Promise.all([
        startRecorder('registry', received),
        startRecorder('blob', received),
        startRecorder('acr', received),
        startRecorder('edgehub', received, { cert: pki.server.chainPem, key: pki.server.keyPem }),
        startRecorder('parent', received, { cert: pki.parentGood.chainPem, key: pki.parentGood.keyPem }),
      ]);
      token = await startTokenServer('SharedAccessSignature sr=x&sig=y&se=1', 0);
      dns = await startDnsResponder(Object.fromEntries(LOOPBACK_NAMES.map((n) => [n, '127.0.0.1'])));
      const up = upstreamPorts(recorders, token.port);
      const { rendered, config } = renderLayer('top', up, pki.confDir);
      ports.nginx = await closedPort();
      let text = `user root;\n${rendered}`
        .replace(
          /^(\s*)listen \d+ ssl default_server;/m,
          `$1listen 127.0.0.1:${ports.nginx} ssl default_server;`,
        )
        .replace(/resolver 127\.0\.0\.11;/g, `resolver 127.0.0.1:${dns.port} ipv6=off;`)
        .replace(/proxy_cache_path \/var\/cache\/nginx /, 'proxy_cache_path cache ');
      text = text.replace(
        /^http \{$/m,
        'http {\n    client_body_temp_path body; proxy_temp_path proxy; fastcgi_temp_path fastcgi; uwsgi_temp_path uwsgi; scgi_temp_path scgi;',
      );
      nginx = await startNginx({
        conf: text,
        files: ['server.crt', 'private_key_server.pem', 'trustedCA.crt'].map((f) => `${pki.confDir}/${f}`),
      });
      gh = createGatehouse({ config, baseDir: pki.confDir });
      await gh.start();
      ports.ours = gh.addresses()[0]!.port;
    });

    after(async () => {
      await gh?.close();
      await nginx?.close();
      await Promise.all([...recorders, token, dns].filter(Boolean).map((r) => r.close()));
      pki?.cleanup();
    });

    const both = async (
      f: (port: number) => Promise<Exchange>,
    ): Promise<{ nginx: Exchange; ours: Exchange }> => ({
      nginx: await f(ports.nginx),
      ours: await f(ports.ours),
    });

    it('a proxied kept-alive answer carries Date and Connection: keep-alive, and no Keep-Alive field', async () => {
      const r = await both(async (port) =>
        exchange(await tlsSocket(port), 'GET /v2/ HTTP/1.1\r\nHost: edge-gateway.local\r\n\r\n', 500),
      );
      for (const [who, x] of Object.entries(r)) {
        assert.equal(x.status, 200, `${who}: ${x.raw}`);
        assert.ok(x.fields.has('date'), `${who}: Date`);
        assert.equal(x.fields.get('connection'), 'keep-alive', who);
        assert.equal(x.fields.has('keep-alive'), false, `${who}: ${x.fields.get('keep-alive')}`);
        assert.equal(x.closed, false, who);
      }
    });

    it("the proxy's own 400 (HTTP/1.1 without Host) carries Date and closes", async () => {
      const r = await both(async (port) => exchange(await tlsSocket(port), 'GET /v2/ HTTP/1.1\r\n\r\n'));
      for (const [who, x] of Object.entries(r)) {
        assert.equal(x.status, 400, `${who}: ${x.raw}`);
        assert.ok(x.fields.has('date'), `${who}: Date in ${x.raw}`);
        assert.equal(x.closed, true, who);
      }
    });

    it('plain HTTP sent to the TLS port gets 400, then the connection closes', async () => {
      const r = await both(async (port) =>
        exchange(await plainSocket(port), 'GET /v2/ HTTP/1.1\r\nHost: edge-gateway.local\r\n\r\n'),
      );
      assert.equal(r.nginx.status, 400, r.nginx.raw);
      assert.equal(r.nginx.closed, true);
      assert.equal(r.ours.status, 400, `ours: ${JSON.stringify(r.ours.raw)}`);
      assert.equal(r.ours.closed, true);
      assert.ok(r.ours.fields.has('date'));
    });

    it('an expired client certificate (optional_no_ca) gets 400, then the connection closes', async () => {
      const expired = pki.issue('expired-client', {
        commonName: 'expired',
        client: true,
        notBefore: new Date(Date.now() - 10 * 86_400_000),
        notAfter: new Date(Date.now() - 86_400_000),
      });
      const r = await both(async (port) =>
        exchange(
          await tlsSocket(port, { cert: expired.certPem, key: expired.keyPem }),
          'GET /devices/d1 HTTP/1.1\r\nHost: edge-gateway.local\r\n\r\n',
        ),
      );
      for (const [who, x] of Object.entries(r)) {
        assert.equal(x.status, 400, `${who}: ${x.raw}`);
        assert.ok(x.fields.has('date'), `${who}: Date`);
        assert.equal(x.closed, true, `${who} closes`);
      }
    });

    it('a relayed 101 Switching Protocols carries Date although the upstream sent none', async () => {
      const r = await both(async (port) =>
        exchange(
          await tlsSocket(port),
          'GET /$iothub/websocket HTTP/1.1\r\nHost: edge-gateway.local\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
          800,
        ),
      );
      for (const [who, x] of Object.entries(r)) {
        assert.equal(x.status, 101, `${who}: ${x.raw}`);
        assert.ok(x.fields.has('date'), `${who}: Date in ${JSON.stringify(x.raw)}`);
      }
    });
  },
);
