// `pnpm start`: edgemicro in standalone mode (no Apigee account) in front of core's demo upstream,
// with the example files in examples/quickstart. Prints what to curl.
import cluster from 'node:cluster';
import { resolve } from 'node:path';

const EXAMPLE = resolve(import.meta.dirname, '../../examples/quickstart');
const UPSTREAM_PORT = 8081;

async function quickstart(): Promise<void> {
  if (process.env.GATEHOUSE_WORKER === '1' && cluster.isWorker) {
    const { runGatewayWorker } = await import('../runtime/worker.js');
    return runGatewayWorker();
  }
  const { startDemoUpstream } = await import('@gatehouse/core');
  let upstream: Awaited<ReturnType<typeof startDemoUpstream>>;
  try {
    upstream = await startDemoUpstream(UPSTREAM_PORT);
  } catch (err) {
    console.error(
      `edgemicro quickstart: cannot start the demo upstream on 127.0.0.1:${UPSTREAM_PORT} (${(err as Error).message})`,
    );
    process.exit(1);
  }
  process.on('exit', () => void upstream.close());
  const { main } = await import('./main.js');
  const code = await main([
    'start',
    '-o',
    'demo',
    '-e',
    'local',
    '-c',
    EXAMPLE,
    '--standalone',
    resolve(EXAMPLE, 'standalone.yaml'),
  ]);
  if (code >= 0) process.exit(code);
  console.log(`
Gatehouse edgemicro (standalone mode) on http://127.0.0.1:8000, in front of a demo upstream on :${UPSTREAM_PORT}
Config: ${EXAMPLE}/demo-local-config.yaml   Proxies, products, apps: ${EXAMPLE}/standalone.yaml
Try:
  curl -i http://127.0.0.1:8000/hello/hello                       # 401 missing_authorization (oauth)
  curl -i http://127.0.0.1:8000/hello/hello -H 'x-api-key: quickstart-key-0123456789'   # 200 from upstream /hello
  curl -i http://127.0.0.1:8000/nowhere                           # 404, no proxy matches
  pnpm --filter @gatehouse/gateway exec edgemicro status           # (after pnpm build) workers and proxies
Ctrl-C drains and stops.
`);
}

void quickstart();
