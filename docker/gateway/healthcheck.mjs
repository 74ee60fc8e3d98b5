#!/usr/bin/env node
// HEALTHCHECK: healthy when the gateway accepts a TCP connection on its port (see config-port.mjs).
// Every request needs an API key, so a connection is the one thing a probe can ask for without one.
import { probe } from '../common/tcp-probe.mjs';
import { listenPort } from './config-port.mjs';

try {
  probe(listenPort(process.env));
} catch (err) {
  process.stderr.write(`healthcheck: ${err.message}\n`);
  process.exit(1);
}
