// Listener TLS with real clients: SNI selection, client-certificate modes as nginx has them, the escaped
// client certificate (compared with Debian nginx when it is installed), versions and ciphers.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { createLogger } from '../src/observability/logger.js';
import { Registry } from 'prom-client';
import type { ServerTlsConfig } from '../src/config/types.js';
import {
  createCertificateAuthority,
  createServerTls,
  escapeUriComponentNginx,
  escapedClientCertificate,
  issueCertificate,
  type ServerTlsRuntime,
} from '../src/tls/index.js';
import { createTestPki } from '../../../test/helpers/pki.js';

const pki = createTestPki();
const wildcard = pki.issue('wildcard', { commonName: 'example.test', dnsNames: ['*.example.test'] });
const explicit = pki.issue('explicit', { commonName: 'whatever' });
const otherCa = createCertificateAuthority({ commonName: 'Untrusted CA' });
const untrustedClient = issueCertificate(otherCa, { commonName: 'stranger', client: true });
const expiredClient = issueCertificate(pki.ca, {
  commonName: 'old-client',
  client: true,
  notBefore: new Date(Date.now() - 10 * 86_400_000),
  notAfter: new Date(Date.now() - 86_400_000),
});
after(() => pki.cleanup());

interface Running {
  port: number;
  runtime: ServerTlsRuntime;
  close(): void;
}

async function start(cfg: ServerTlsConfig): Promise<Running> {
  const runtime = await createServerTls(cfg, {
    logger: createLogger({ level: 'silent' }),
    registry: new Registry(),
  });
  const server = https.createServer(runtime.serverOptions, (req, res) => {
    const socket = req.socket as tls.TLSSocket;
    const error = runtime.clientCertificateError(socket);
    if (error) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error }));
      return;
    }
    res.end(escapedClientCertificate(socket));
  });
  runtime.attach(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    runtime,
    close() {
      runtime.close();
      server.closeAllConnections();
      server.close();
    },
  };
}

async function serialFor(port: number, servername?: string): Promise<string> {
  const socket = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false });
  await once(socket, 'secureConnect');
  const serial = socket.getPeerCertificate().serialNumber;
  socket.destroy();
  return serial;
}

function get(
  port: number,
  client?: { certPem: string; keyPem: string },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        ca: pki.ca.certPem,
        agent: false,
        cert: client?.certPem,
        key: client?.keyPem,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('SNI selects by SAN (wildcards one label deep) or explicit names, else the default', async () => {
  const s = await start({
    certificate: { certFile: pki.server.certFile, keyFile: pki.server.keyFile },
    sni: [
      { certFile: wildcard.certFile, keyFile: wildcard.keyFile },
      {
        certFile: explicit.certFile,
        keyFile: explicit.keyFile,
        serverNames: ['api.other.test', '*.deep.test'],
      },
    ],
  });
  try {
    const def = pki.server.serialHex.toUpperCase();
    const wild = wildcard.serialHex.toUpperCase();
    const expl = explicit.serialHex.toUpperCase();
    assert.equal(await serialFor(s.port), def, 'no SNI');
    assert.equal(await serialFor(s.port, 'localhost'), def);
    assert.equal(await serialFor(s.port, 'a.example.test'), wild);
    assert.equal(await serialFor(s.port, 'B.EXAMPLE.TEST'), wild, 'case-insensitive');
    assert.equal(await serialFor(s.port, 'x.y.example.test'), def, 'certificate wildcard covers one label');
    assert.equal(await serialFor(s.port, 'example.test'), def);
    assert.equal(await serialFor(s.port, 'api.other.test'), expl);
    assert.equal(await serialFor(s.port, 'a.b.deep.test'), expl, 'explicit wildcard: any depth, as nginx');
    assert.equal(await serialFor(s.port, 'unknown.test'), def);
  } finally {
    s.close();
  }
});

const modes: Array<{
  mode: 'off' | 'optional' | 'optional_no_ca' | 'required';
  none: number | string;
  trusted: number | string;
  untrusted: number | string;
  expired: number | string;
}> = [
  // 200 = served; a string = 400 with that error code
  { mode: 'off', none: 200, trusted: 200, untrusted: 200, expired: 200 },
  {
    mode: 'optional',
    none: 200,
    trusted: 200,
    untrusted: 'client_certificate_invalid',
    expired: 'client_certificate_expired',
  },
  { mode: 'optional_no_ca', none: 200, trusted: 200, untrusted: 200, expired: 'client_certificate_expired' },
  {
    mode: 'required',
    none: 'client_certificate_required',
    trusted: 200,
    untrusted: 'client_certificate_invalid',
    expired: 'client_certificate_expired',
  },
];

for (const m of modes) {
  test(`client certificate mode ${m.mode} behaves as nginx`, async () => {
    const s = await start({
      certificate: { certFile: pki.server.certFile, keyFile: pki.server.keyFile },
      clientCertificate: { mode: m.mode, caFile: pki.caFile },
    });
    try {
      const clients = {
        none: undefined,
        trusted: pki.client,
        untrusted: untrustedClient,
        expired: expiredClient,
      } as const;
      for (const kind of ['none', 'trusted', 'untrusted', 'expired'] as const) {
        const client = clients[kind];
        const r = await get(s.port, client);
        const want = m[kind];
        if (want === 200) {
          assert.equal(r.status, 200, `${m.mode}/${kind}: ${r.body}`);
          // The escaped PEM only when a certificate was requested and sent.
          const expected =
            m.mode !== 'off' && client
              ? escapeUriComponentNginx(new X509Certificate(client.certPem).toString())
              : '';
          assert.equal(r.body, expected, `${m.mode}/${kind} escaped certificate`);
        } else {
          assert.equal(r.status, 400, `${m.mode}/${kind}`);
          assert.deepEqual(JSON.parse(r.body), { error: want });
        }
      }
    } finally {
      s.close();
    }
  });
}

test('optional/required without a CA bundle is a configuration error (as nginx -t)', async () => {
  await assert.rejects(
    createServerTls(
      {
        certificate: { cert: pki.server.certPem, key: pki.server.keyPem },
        clientCertificate: { mode: 'required' },
      },
      { logger: createLogger({ level: 'silent' }), registry: new Registry() },
    ),
    /needs a CA bundle/,
  );
});

test('escaping follows ngx_escape_uri(NGX_ESCAPE_URI_COMPONENT)', () => {
  assert.equal(
    escapeUriComponentNginx('-----BEGIN CERTIFICATE-----\nAb+/9=\n'),
    '-----BEGIN%20CERTIFICATE-----%0AAb%2B%2F9%3D%0A',
  );
  assert.equal(escapeUriComponentNginx("azAZ09-._~!'()*"), "azAZ09-._~!'()*");
  assert.equal(
    escapeUriComponentNginx(' "#$%&+,/:;<=>?@[\\]^`{|}\x7f'),
    '%20%22%23%24%25%26%2B%2C%2F%3A%3B%3C%3D%3E%3F%40%5B%5C%5D%5E%60%7B%7C%7D%7F',
  );
  assert.equal(escapeUriComponentNginx('é\t'), '%C3%A9%09');
});

test('a cipher list without TLS 1.3 suites keeps TLS 1.3 (nginx ssl_ciphers semantics); maxVersion applies', async () => {
  const s13 = await start({
    certificate: { cert: pki.server.certPem, key: pki.server.keyPem },
    ciphers: 'ECDHE-RSA-AES128-GCM-SHA256',
  });
  const s12 = await start({
    certificate: { cert: pki.server.certPem, key: pki.server.keyPem },
    ciphers: 'ECDHE-RSA-AES256-GCM-SHA384',
    maxVersion: 'TLSv1.2',
  });
  try {
    const a = tls.connect({ host: '127.0.0.1', port: s13.port, rejectUnauthorized: false });
    await once(a, 'secureConnect');
    assert.equal(a.getProtocol(), 'TLSv1.3');
    a.destroy();
    const b = tls.connect({ host: '127.0.0.1', port: s12.port, rejectUnauthorized: false });
    await once(b, 'secureConnect');
    assert.equal(b.getProtocol(), 'TLSv1.2');
    assert.equal(b.getCipher().standardName, 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384');
    b.destroy();
    // A CBC suite is refused by the default list.
    const c = tls.connect({
      host: '127.0.0.1',
      port: s12.port,
      rejectUnauthorized: false,
      ciphers: 'ECDHE-RSA-AES128-SHA',
      maxVersion: 'TLSv1.2',
    });
    const [err] = (await once(c, 'error')) as [NodeJS.ErrnoException];
    assert.match(String(err.code), /ERR_SSL/);
  } finally {
    s13.close();
    s12.close();
  }
});

// Differential check against the real thing: nginx's $ssl_client_escaped_cert for the same client certificate.
const NGINX = '/usr/sbin/nginx';
let nginx: ChildProcess | undefined;
let nginxPort = 0;

async function freePort(): Promise<number> {
  const srv = net.createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

before(async () => {
  if (!existsSync(NGINX)) return;
  const dir = join(pki.dir, 'nginx');
  mkdirSync(join(dir, 'logs'), { recursive: true });
  nginxPort = await freePort();
  writeFileSync(
    join(dir, 'nginx.conf'),
    `user root; worker_processes 1; error_log ${dir}/logs/error.log; pid ${dir}/nginx.pid;
events {}
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${nginxPort} ssl;
    ssl_certificate ${pki.server.certFile};
    ssl_certificate_key ${pki.server.keyFile};
    ssl_client_certificate ${pki.caFile};
    ssl_verify_client optional_no_ca;
    location / { return 200 "$ssl_client_escaped_cert"; }
  }
}
`,
  );
  nginx = spawn(NGINX, ['-p', `${dir}/`, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], {
    stdio: 'ignore',
  });
  for (const until = Date.now() + 5000; Date.now() < until;) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(nginxPort, '127.0.0.1', () => (s.destroy(), r(true))).on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
});
after(() => {
  nginx?.kill('SIGTERM');
});

test(
  'escaped client certificate equals nginx 1.22 $ssl_client_escaped_cert',
  { skip: !existsSync(NGINX) && 'nginx not installed' },
  async () => {
    const s = await start({
      certificate: { certFile: pki.server.certFile, keyFile: pki.server.keyFile },
      clientCertificate: { mode: 'optional_no_ca', caFile: pki.caFile },
    });
    try {
      for (const client of [pki.client, untrustedClient]) {
        const ours = await get(s.port, client);
        const theirs = await get(nginxPort, client);
        assert.equal(theirs.status, 200);
        assert.ok(theirs.body.length > 100);
        assert.equal(ours.body, theirs.body);
      }
      const none = await get(nginxPort);
      assert.equal(none.body, '');
      assert.equal((await get(s.port)).body, '');
    } finally {
      s.close();
    }
  },
);
