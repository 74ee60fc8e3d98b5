// The plain Node baseline: http-proxy-3 behind node:http(s) with a keep-alive agent to the upstream.
// Plain JavaScript on purpose: the measured process must not carry a TypeScript loader.
// Configuration arrives as JSON in argv[2]: { port, target, ws, tls?: { cert, key } }.
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { constants } from 'node:crypto';
import { createProxyServer } from 'http-proxy-3';

const cfg = JSON.parse(process.argv[2]);
const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
const proxy = createProxyServer({ target: cfg.target, agent });
proxy.on('error', (_err, _req, res) => {
  if (res && typeof res.writeHead === 'function' && !res.headersSent) res.writeHead(502);
  if (res && typeof res.end === 'function') res.end();
});
const handler = (req, res) => proxy.web(req, res);
const server = cfg.tls
  ? https.createServer(
      {
        key: readFileSync(cfg.tls.key),
        cert: readFileSync(cfg.tls.cert),
        // No session resumption: every new connection is a full handshake.
        secureOptions: constants.SSL_OP_NO_TICKET,
      },
      handler,
    )
  : http.createServer(handler);
// Idle keep-alive connections must survive the idle-connection scenario.
if (cfg.ws) server.on('upgrade', (req, socket, head) => proxy.ws(req, socket, head));
server.keepAliveTimeout = 120000;
server.headersTimeout = 121000;
server.requestTimeout = 0;
server.listen({ port: cfg.port, host: '127.0.0.1', backlog: 4096 });
process.on('SIGTERM', () => process.exit(0));
