// `pnpm test:images`: builds both images with podman (on a locally built base when no registry is
// reachable) and checks them from the outside: image config (user, ports, volumes, entrypoint,
// HEALTHCHECK), sizes, the entrypoint in the image (seed variables, a bad EDGEMICRO_CONFIG), the
// seed's option-B derived plugin image, the HEALTHCHECK and `podman stop` with a live listener,
// the bind of port 443 as non-root, and the IoT module container serving against the IoT Edge
// emulators (test/images/iot-container.ts). Containers use --network=host (no bridge here).
// `--reuse` keeps images an earlier run built.
// Prints SKIPPED with the reason, exit 0, when podman is missing; every failure exits 1.
import { execFile, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const GATEWAY = 'localhost/gatehouse-gateway:test';
const IOT = 'localhost/gatehouse-iot-module:test';
const PLUGINS = 'localhost/gatehouse-edgemicroplugins:test';
const BASE = process.env.BASE_IMAGE ?? 'docker.io/library/node:20-bookworm-slim';
process.env.CONTAINERS_CONF ??= join(REPO, 'scripts/images/containers.conf');

const results = [];
let failed = 0;
let baseSize = 0;

function sh(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 900_000, ...options });
  return {
    status: r.status ?? (r.error ? 127 : 1),
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? String(r.error ?? ''),
  };
}

function podman(...args) {
  return sh('podman', args);
}

function check(name, fn) {
  try {
    const note = fn();
    results.push(`ok   ${name}${note ? ` (${note})` : ''}`);
  } catch (err) {
    failed++;
    results.push(`FAIL ${name}: ${err.message}`);
  }
}

function notRun(name, why) {
  results.push(`--   ${name}: not run, ${why}`);
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

function inspect(image) {
  const r = podman('image', 'inspect', image);
  expect(r.status === 0, r.stderr);
  return JSON.parse(r.stdout)[0];
}

function freePort() {
  // Synchronous enough: ask the kernel in a child.
  const r = sh(process.execPath, [
    '-e',
    "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})",
  ]);
  return Number(r.stdout.trim());
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

if (sh('podman', ['--version']).status !== 0) {
  console.log(
    'test:images: SKIPPED: podman is not installed (Debian: apt-get install podman buildah runc iptables mmdebstrap); no image was built or run',
  );
  process.exit(0);
}

// 1. The base image.
if (podman('image', 'exists', BASE).status !== 0) {
  if (process.env.BASE_IMAGE) {
    console.error(`test:images: BASE_IMAGE ${BASE} is not in local storage`);
    process.exit(1);
  }
  if (sh('mmdebstrap', ['--version']).status !== 0) {
    console.error(
      `test:images: ${BASE} is not in local storage and mmdebstrap is missing to build a stand-in`,
    );
    process.exit(1);
  }
  const r = sh(join(REPO, 'scripts/images/build-base.sh'), [BASE], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(1);
}

// 2. Both images. --reuse keeps an image already built by an earlier run (building takes minutes on
// two cores); without it they are always rebuilt from this tree.
const reuse = process.argv.includes('--reuse');
for (const [image, file] of [
  [GATEWAY, 'docker/gateway/Dockerfile'],
  [IOT, 'docker/iot-module/Dockerfile'],
]) {
  if (reuse && podman('image', 'exists', image).status === 0) {
    check(`build ${image}`, () => 'reused, --reuse');
    continue;
  }
  console.log(`test:images: building ${image} from ${file}`);
  const r = sh(
    'podman',
    [
      'build',
      '--pull=never',
      '--network=host',
      '--format',
      'docker',
      '--build-arg',
      `BASE_IMAGE=${BASE}`,
      '-t',
      image,
      '-f',
      file,
      '.',
    ],
    { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  check(`build ${image}`, () => expect(r.status === 0, `podman build exited ${r.status}`));
  if (r.status !== 0) finish();
}

// 3. Image configuration and size.
const sizes = {};
for (const [image, user, ports, volumes, workdir] of [
  [
    GATEWAY,
    '101:101',
    ['8000/tcp', '8443/tcp'],
    ['/opt/apigee/.edgemicro', '/opt/apigee/logs', '/opt/apigee/plugins'],
    '/opt/apigee',
  ],
  [IOT, '13624:13624', ['443/tcp', '8000/tcp'], [], '/app'],
]) {
  check(`${image}: user, ports, volumes, workdir, entrypoint, healthcheck`, () => {
    const info = inspect(image);
    const c = info.Config;
    expect(c.User === user, `User ${c.User}`);
    expect(
      JSON.stringify(Object.keys(c.ExposedPorts ?? {}).sort()) === JSON.stringify(ports),
      `ports ${Object.keys(c.ExposedPorts ?? {})}`,
    );
    expect(
      JSON.stringify(Object.keys(c.Volumes ?? {}).sort()) === JSON.stringify([...volumes].sort()),
      'volumes',
    );
    expect(c.WorkingDir === workdir, `WorkingDir ${c.WorkingDir}`);
    expect(JSON.stringify(c.Entrypoint) === '["entrypoint"]', `Entrypoint ${c.Entrypoint}`);
    const health = info.Healthcheck ?? c.Healthcheck;
    expect(health?.Test?.[0] === 'CMD', 'no HEALTHCHECK (built without --format docker?)');
    sizes[image] = info.Size;
    return `${(info.Size / 1e6).toFixed(0)} MB`;
  });
}
baseSize = inspect(BASE).Size;

// 4. The entrypoint inside the gateway image, dry run, with the seed's first example.
const config = Buffer.from('edgemicro:\n  port: 8000\n').toString('base64');
const seed = [
  '-e', 'EDGEMICRO_PROCESSES=1',
  '-e', 'EDGEMICRO_ORG=docs',
  '-e', 'EDGEMICRO_ENV=test',
  '-e', 'EDGEMICRO_KEY=d9c34e1aff68ed969273b016699eabf48780e4f652242e72fc88a23e21252cb0',
  '-e', 'EDGEMICRO_SECRET=3bc95a71c86a3c8ce04137fbcb788158731t51dfc6cdec13b7c05aa0bd969430',
  '-e', `EDGEMICRO_CONFIG=${config}`,
  '-e', 'SERVICE_NAME=edgemicro',
]; // prettier-ignore
check('gateway entrypoint in the image: the seed example as non-root with --cap-drop=ALL', () => {
  const r = podman('run', '--rm', '--network=host', '--security-opt=no-new-privileges', '--cap-drop=ALL',
    '-e', 'GATEHOUSE_ENTRYPOINT_DRY_RUN=1', ...seed, GATEWAY); // prettier-ignore
  expect(r.status === 0, r.stderr);
  const plan = JSON.parse(r.stdout.trim().split('\n').at(-1));
  const args = plan.command.slice(2).join(' ');
  expect(args === 'start -o docs -e test -c /opt/apigee/.edgemicro -d /opt/apigee/plugins -p 1', args);
  expect(!r.stdout.includes('d9c34e1a') && !r.stderr.includes('d9c34e1a'), 'key in output');
  expect(r.stderr.includes('decoded to /opt/apigee/.edgemicro/docs-test-config.yaml'), r.stderr);
});
check('gateway entrypoint in the image: bad base64 in EDGEMICRO_CONFIG is exit 1 with a message', () => {
  const r = podman('run', '--rm', '--network=host', ...seed, '-e', 'EDGEMICRO_CONFIG=not*base64', GATEWAY);
  expect(r.status === 1, `exit ${r.status}`);
  expect(/EDGEMICRO_CONFIG is not valid base64/.test(r.stderr), r.stderr);
});

check('gateway entrypoint in the image: a mounted $HOME/.edgemicro with the config already there', () => {
  const home = mkdtempSync(join(tmpdir(), 'gatehouse-edgemicro-'));
  chmodSync(home, 0o755); // a usual $HOME/.edgemicro: others may read, not write
  try {
    writeFileSync(join(home, 'docs-test-config.yaml'), 'edgemicro:\n  port: 8000\n', { mode: 0o644 });
    const same = podman('run', '--rm', '--network=host', '-v', `${home}:/opt/apigee/.edgemicro`,
      '-e', 'GATEHOUSE_ENTRYPOINT_DRY_RUN=1', ...seed, GATEWAY); // prettier-ignore
    expect(same.status === 0, same.stderr);
    expect(/EDGEMICRO_CONFIG matches/.test(same.stderr), same.stderr);
    const other = podman('run', '--rm', '--network=host', '-v', `${home}:/opt/apigee/.edgemicro`,
      ...seed, '-e', `EDGEMICRO_CONFIG=${Buffer.from('edgemicro: {}\n').toString('base64')}`, GATEWAY); // prettier-ignore
    expect(other.status === 1, `exit ${other.status}`);
    expect(
      /cannot write EDGEMICRO_CONFIG to \/opt\/apigee\/.edgemicro\/docs-test-config.yaml: EACCES/.test(
        other.stderr,
      ),
      other.stderr,
    );
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

// 5. Option B: the seed's derived plugin image, as docker/README.md writes it for a Debian base.
const work = mkdtempSync(join(tmpdir(), 'gatehouse-images-'));
check('option B: derived image with plugins.zip unzipped as apigee, EDGEMICRO_PLUGIN_DIR honoured', () => {
  mkdirSync(join(work, 'plugins/response-uppercase'), { recursive: true });
  writeFileSync(
    join(work, 'plugins/response-uppercase/index.js'),
    "'use strict';\nmodule.exports.init = function () {\n  return {\n    ondata_response: function (req, res, data, next) { next(null, null); },\n  };\n};\n",
  );
  writeFileSync(join(work, 'plugins/response-uppercase/package.json'), '{"name":"response-uppercase"}\n');
  const zip = sh('python3', ['-c', 'import shutil; shutil.make_archive("plugins", "zip", ".", "plugins")'], {
    cwd: work,
  });
  expect(zip.status === 0, `python3 zip: ${zip.stderr}`);
  rmSync(join(work, 'plugins'), { recursive: true });
  writeFileSync(
    join(work, 'Dockerfile'),
    [
      `FROM ${GATEWAY}`,
      'USER root',
      'RUN mkdir /opt/apigee/customplugins && \\',
      '    chown apigee:apigee /opt/apigee/customplugins',
      'COPY plugins.zip /opt/apigee/customplugins',
      'RUN su - apigee -c "unzip /opt/apigee/customplugins/plugins.zip -d /opt/apigee/customplugins"',
      'EXPOSE 8000',
      'EXPOSE 8443',
      'USER apigee',
      'ENTRYPOINT ["entrypoint"]',
      '',
    ].join('\n'),
  );
  const b = podman('build', '--pull=never', '--network=host', '--format', 'docker', '-t', PLUGINS, work);
  expect(b.status === 0, b.stderr.slice(-2000));
  const ls = podman('run', '--rm', '--network=host', '--entrypoint', 'sh', PLUGINS, '-c',
    'id -un; stat -c %U /opt/apigee/customplugins/plugins/response-uppercase/index.js'); // prettier-ignore
  expect(ls.stdout.trim() === 'apigee\napigee', ls.stdout + ls.stderr);
  const r = podman('run', '--rm', '--network=host', '-e', 'GATEHOUSE_ENTRYPOINT_DRY_RUN=1',
    '-e', 'EDGEMICRO_PLUGIN_DIR=/opt/apigee/customplugins/plugins', ...seed, PLUGINS); // prettier-ignore
  expect(r.status === 0, r.stderr);
  expect(r.stdout.includes('"-d","/opt/apigee/customplugins/plugins"'), r.stdout);
});

// 6. HEALTHCHECK and podman stop with a live listener. The product CLIs may not be in this build,
// so the listener is the engine's own `gatehouse demo`, shipped in the image as a dependency.
const CORE_CLI = '/usr/local/lib/gatehouse/edgemicro/node_modules/@gatehouse/core/dist/cli/main.js';
check(
  'gateway HEALTHCHECK: unhealthy with nothing on EDGEMICRO_PORT, healthy with a listener; podman stop as PID 1',
  () => {
    const port = freePort();
    const name = `gatehouse-health-${process.pid}`;
    podman('rm', '-f', name);
    const run = podman('run', '-d', '--name', name, '--network=host', '-e', `EDGEMICRO_PORT=${port}`,
    '--entrypoint', 'sh', GATEWAY, '-c', `sleep 2; exec node ${CORE_CLI} demo --port ${port}`); // prettier-ignore
    expect(run.status === 0, run.stderr);
    try {
      const before = podman('healthcheck', 'run', name);
      expect(before.status !== 0, 'healthy before anything listened');
      let healthy = false;
      for (let i = 0; i < 40 && !healthy; i++) {
        sleep(250);
        healthy = podman('healthcheck', 'run', name).status === 0;
      }
      expect(healthy, 'never healthy');
      const started = Date.now();
      const stop = podman('stop', '-t', '10', name);
      expect(stop.status === 0, stop.stderr);
      const seconds = (Date.now() - started) / 1000;
      expect(seconds < 9, `podman stop took ${seconds} s: SIGTERM not handled by PID 1`);
      const state = JSON.parse(podman('inspect', name).stdout)[0].State;
      return `stopped in ${seconds.toFixed(1)} s, exit ${state.ExitCode}`;
    } finally {
      podman('rm', '-f', name);
    }
  },
);

// 7. iot-module: non-root binds 443 with the module's node, not with plain node.
check('iot-module image: the module node binds 443 as uid 13624; plain node cannot', () => {
  const probe = (bin) =>
    `${bin} -e "require('net').createServer().listen(443,'127.0.0.3',function(){console.log('bound');this.close()}).on('error',e=>console.log(e.code))"`;
  const r = podman('run', '--rm', '--network=host', '--entrypoint', 'sh', IOT, '-c',
    `id -u; ${probe('/usr/local/lib/gatehouse/bin/node')}; ${probe('node')}`); // prettier-ignore
  expect(r.stdout.trim() === '13624\nbound\nEACCES', r.stdout + r.stderr);
});
check('iot-module entrypoint in the image: missing IoT Edge environment is exit 1 naming it', () => {
  const r = podman('run', '--rm', '--network=host', '-e', 'IOTEDGE_MODULEID=IoTEdgeAPIProxy', IOT);
  expect(r.status === 1, `exit ${r.status}`);
  expect(/missing IOTEDGE_WORKLOADURI/.test(r.stderr), r.stderr);
});
check('iot-module entrypoint in the image: dry run with the seed lower layer environment', () => {
  const edgeEnv = ['-e', 'IOTEDGE_WORKLOADURI=unix:///var/run/iotedge/workload.sock', '-e', 'IOTEDGE_MODULEID=IoTEdgeAPIProxy',
    '-e', 'IOTEDGE_MODULEGENERATIONID=1', '-e', 'IOTEDGE_DEVICEID=lower', '-e', 'IOTEDGE_IOTHUBHOSTNAME=hub.azure-devices.net',
    '-e', 'IOTEDGE_GATEWAYHOSTNAME=lower', '-e', 'IOTEDGE_PARENTHOSTNAME=top', '-e', 'NGINX_DEFAULT_PORT=8000']; // prettier-ignore
  const r = {
    ...podman('run', '--rm', '--network=host', '-e', 'GATEHOUSE_ENTRYPOINT_DRY_RUN=1', ...edgeEnv, IOT),
    env: edgeEnv,
  };
  expect(r.status === 0, r.stderr);
  const plan = JSON.parse(r.stdout.trim());
  expect(plan.command[0] === '/usr/local/lib/gatehouse/bin/node', plan.command[0]);
  const dropped = podman('run', '--rm', '--network=host', '--cap-drop=ALL', '-e', 'GATEHOUSE_ENTRYPOINT_DRY_RUN=1',
    ...r.env, IOT); // prettier-ignore
  expect(dropped.status === 0, dropped.stderr);
  const plain = JSON.parse(dropped.stdout.trim()).command[0];
  expect(plain === '/usr/local/bin/node' || plain === '/usr/bin/node', `--cap-drop=ALL runs ${plain}`);
  expect(
    plan.command.slice(2).join(' ') === 'run --conf-dir /app --template /app/nginx_default_config.conf',
    plan.command.join(' '),
  );
});

// 8. The seed's `docker run` against the Edge emulator, when this tree has the edgemicro CLI and
// the emulator (test/emulators/edge). Async: the emulator answers from this process meanwhile.
const EDGE_EMULATOR = join(REPO, 'test/emulators/edge/edge-emulator.ts');
const gatewayCli = podman(
  'run',
  '--rm',
  '--network=host',
  '--entrypoint',
  'sh',
  GATEWAY,
  '-c',
  'test -x /usr/local/bin/edgemicro',
);
if (gatewayCli.status !== 0) {
  notRun(
    'seed `docker run` against the gateway image and the Edge emulator',
    'this build has no edgemicro CLI (packages/gateway bin)',
  );
} else if (!existsSync(EDGE_EMULATOR)) {
  notRun(
    'seed `docker run` against the gateway image and the Edge emulator',
    'test/emulators/edge is not in this tree',
  );
} else {
  try {
    const note = await seedAgainstEmulator();
    results.push(`ok   seed \`docker run\` against the Edge emulator (${note})`);
  } catch (err) {
    failed++;
    results.push(`FAIL seed \`docker run\` against the Edge emulator: ${err.message}`);
  }
}
// 9. The IoT module container against the IoT Edge emulators (workload socket mounted, hub and
// edgeHub on host loopback): ready, healthy, proxying, twin reported and patched, stopped cleanly.
const IOT_CONTAINER = join(REPO, 'test/images/iot-container.ts');
if (!existsSync(IOT_CONTAINER)) {
  notRun(
    'iot-module container against the workload and hub emulators',
    'test/images/iot-container.ts is not in this tree',
  );
} else {
  const { runIotContainer, iotContainerUnavailable } = await import(pathToFileURL(IOT_CONTAINER).href);
  if (iotContainerUnavailable) {
    notRun('iot-module container against the workload and hub emulators', iotContainerUnavailable);
  } else {
    try {
      const note = await runIotContainer(IOT);
      results.push(`ok   iot-module container against the workload and hub emulators (${note})`);
    } catch (err) {
      failed++;
      results.push(`FAIL iot-module container against the workload and hub emulators: ${err.message}`);
    }
  }
}

async function seedAgainstEmulator() {
  const { startEdgeEmulator, bootstrapProxy } = await import(pathToFileURL(EDGE_EMULATOR).href);
  const key = 'd9c34e1aff68ed969273b016699eabf48780e4f652242e72fc88a23e21252cb0';
  const secret = '3bc95a71c86a3c8ce04137fbcb788158731t51dfc6cdec13b7c05aa0bd969430';
  const apiKey = 'PydUKRDGIXRqF2xh4usn1FLHbhGKVIz';
  const upstream = http.createServer((req, res) => {
    setTimeout(() => res.end('Hello, world!'), req.url.endsWith('/slow') ? 1500 : 0);
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  const edge = await startEdgeEmulator({
    org: 'docs',
    env: 'test',
    key,
    secret,
    proxies: [bootstrapProxy('edgemicro_hello', '/hello', `http://127.0.0.1:${upstream.address().port}`)],
    products: [
      {
        name: 'hello-product',
        apiResources: ['/', '/**'],
        proxies: ['edgemicro_hello'],
        environments: ['test'],
      },
    ],
    apiKeys: {
      [apiKey]: {
        application_name: 'app',
        developer_email: 'dev@example.com',
        api_product_list: ['hello-product'],
      },
    },
  });
  const yaml = [
    'edge_config:',
    `  bootstrap: ${edge.urls.bootstrap}`,
    `  jwt_public_key: ${edge.urls.jwt_public_key}`,
    `  products: ${edge.urls.products}`,
    `  jwk_public_keys: ${edge.urls.jwk_public_keys}`,
    'edgemicro:',
    '  port: 8000',
    '  max_connections: 100',
    '  logging: { level: info, to_console: true }',
    '  plugins: { sequence: [oauth] }',
    'oauth:',
    '  allowNoAuthorization: false',
    `  verify_api_key_url: ${edge.urls.verify_api_key}`,
    '',
  ].join('\n');
  const port = freePort();
  const logs = mkdtempSync(join(tmpdir(), 'gatehouse-logs-'));
  chmodSync(logs, 0o777);
  const name = `gatehouse-seed-${process.pid}`;
  const base = `http://127.0.0.1:${port}`;
  const run = (...args) => execFileAsync('podman', args, { encoding: 'utf8' }).catch((err) => err);
  await run('rm', '-f', name);
  try {
    // The seed's first example (-P/-p become --network=host, and the port moves off 8000).
    const started = await run('run', '-d', '--name', name, '--network=host', '-v', `${logs}:/opt/apigee/logs`,
      '-e', 'EDGEMICRO_PROCESSES=1', '-e', `EDGEMICRO_PORT=${port}`, '-e', 'EDGEMICRO_ORG=docs', '-e', 'EDGEMICRO_ENV=test',
      '-e', `EDGEMICRO_KEY=${key}`, '-e', `EDGEMICRO_SECRET=${secret}`,
      '-e', `EDGEMICRO_CONFIG=${Buffer.from(yaml).toString('base64')}`, '-e', 'SERVICE_NAME=edgemicro',
      '--security-opt=no-new-privileges', '--cap-drop=ALL', GATEWAY); // prettier-ignore
    expect(!started.code, `podman run: ${started.stderr}`);
    let listening = false;
    for (let i = 0; i < 100 && !listening; i++) {
      await delay(200);
      listening = await fetch(`${base}/`).then(
        () => true,
        () => false,
      );
    }
    expect(listening, `nothing on port ${port}: ${(await run('logs', name)).stderr}`);
    const anonymous = await fetch(`${base}/hello`);
    const body = await anonymous.text();
    expect(
      anonymous.status === 401 && JSON.parse(body).error === 'missing_authorization',
      `no key: ${anonymous.status} ${body}`,
    );
    const ps = (await execFileAsync('ps', ['-eo', 'args'], { encoding: 'utf8' })).stdout;
    expect(
      ps.includes('edgemicro') && !ps.includes(key) && !ps.includes(secret),
      'key or secret in ps, or no edgemicro',
    );
    const user = await run('exec', name, 'id', '-u');
    expect(user.stdout?.trim() === '101', `user ${user.stdout}`);
    const health = await run('healthcheck', 'run', name);
    expect(!health.code, `healthcheck: ${health.stdout}${health.stderr}`);
    expect(existsSync(join(logs, 'edgemicro.log')), 'no edgemicro.log in the mounted logs directory');
    const keyed = await fetch(`${base}/hello`, { headers: { 'x-api-key': apiKey } });
    const keyedBody = await keyed.text();
    const slow = fetch(`${base}/hello/slow`, { headers: { 'x-api-key': apiKey } }).then(async (r) => [
      r.status,
      await r.text(),
    ]);
    await delay(300);
    const stopAt = Date.now();
    const stopped = await run('stop', '-t', '10', name);
    const seconds = (Date.now() - stopAt) / 1000;
    expect(!stopped.code && seconds < 9, `podman stop: ${seconds} s ${stopped.stderr ?? ''}`);
    const [slowStatus, slowBody] = await slow;
    const exit = JSON.parse((await run('inspect', name)).stdout)[0].State.ExitCode;
    expect(exit === 143, `exit code ${exit}`);
    expect(keyed.status === 200 && keyedBody === 'Hello, world!', `valid key: ${keyed.status} ${keyedBody}`);
    expect(
      slowStatus === 200 && slowBody === 'Hello, world!',
      `in flight at stop: ${slowStatus} ${slowBody}`,
    );
    return `401 without a key, 200 with one, uid 101, healthy, no secret in ps, stop drained in ${seconds.toFixed(1)} s, exit 143`;
  } finally {
    await run('rm', '-f', name);
    await edge.close();
    upstream.closeAllConnections();
    upstream.close();
    rmSync(logs, { recursive: true, force: true });
  }
}

rmSync(work, { recursive: true, force: true });
finish();

function finish() {
  console.log(
    `\ntest:images: ${podman('--version').stdout.trim()}, base ${BASE} (${(baseSize / 1e6).toFixed(0)} MB)`,
  );
  for (const [image, size] of Object.entries(sizes)) {
    console.log(
      `  ${image}: ${(size / 1e6).toFixed(0)} MB, ${((size - baseSize) / 1e6).toFixed(0)} MB above the base`,
    );
  }
  for (const line of results) console.log(line);
  console.log(failed === 0 ? 'test:images: all checks passed' : `test:images: ${failed} check(s) failed`);
  process.exit(failed === 0 ? 0 : 1);
}
