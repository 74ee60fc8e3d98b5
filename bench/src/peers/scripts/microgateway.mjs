// microgateway-core 3.3.7 (the edgemicro engine) configured as edgemicro would run it: one proxy at
// base path `/`, no plugins (its best case), edgemicro's default header options, file logging at
// `error`. Plain JavaScript: the measured process carries no TypeScript loader.
// argv[2] is JSON: { port, target, modulePath, logDir, tls?: { cert, key } }.
import { createRequire } from 'node:module';

const cfg = JSON.parse(process.argv[2]);
const require = createRequire(cfg.modulePath);
const Gateway = require('microgateway-core');

const config = {
  edgemicro: {
    port: cfg.port,
    address: '127.0.0.1',
    // edgemicro's default is 1000; raised so the idle-connection scenario compares like with like.
    max_connections: 20000,
    keep_alive_timeout: 120000,
    logging: {
      level: 'error',
      dir: cfg.logDir,
      stats_log_interval: 60,
      rotate_interval: 24,
      to_console: false,
    },
    plugins: { sequence: [] },
    ...(cfg.tls ? { ssl: { key: cfg.tls.key, cert: cfg.tls.cert } } : {}),
  },
  headers: {
    'x-forwarded-for': true,
    'x-forwarded-host': true,
    'x-request-id': true,
    'x-response-time': true,
    via: true,
  },
  proxies: [
    {
      max_connections: 1000,
      name: 'edgemicro_bench',
      proxy_name: 'default',
      revision: '1',
      base_path: '/',
      target_name: 'default',
      url: cfg.target,
    },
  ],
};

Gateway(config).start((err) => {
  if (err) {
    console.error('microgateway-core failed to start', err);
    process.exit(1);
  }
});
process.on('SIGTERM', () => process.exit(0));
