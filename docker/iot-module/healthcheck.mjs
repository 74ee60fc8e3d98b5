#!/usr/bin/env node
// HEALTHCHECK: healthy when the proxy accepts a TCP connection on NGINX_DEFAULT_PORT (default 443).
// A TLS handshake would need the workload API's certificate chain; the listener is what matters.
import { port } from '../common/env.mjs';
import { probe } from '../common/tcp-probe.mjs';

try {
  probe(port(process.env, 'NGINX_DEFAULT_PORT') ?? 443);
} catch (err) {
  process.stderr.write(`healthcheck: ${err.message}\n`);
  process.exit(1);
}
