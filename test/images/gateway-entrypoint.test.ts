// The gateway entrypoint's own logic, run on this host in dry-run mode (it prepares everything,
// prints the `edgemicro start` it would run as JSON and stops): every EDGEMICRO_* variable of the
// Docker seed, base64 errors, the port kept with processes, the stop-delay clamp, and key and
// secret kept off the command line.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { dryRun, GATEWAY_ENTRYPOINT, REPO, tempRoot } from './run-entrypoint.js';

// The seed's values (its first `docker run` example).
const KEY = 'd9c34e1aff68ed969273b016699eabf48780e4f652242e72fc88a23e21252cb0';
const SECRET = '3bc95a71c86a3c8ce04137fbcb788158731t51dfc6cdec13b7c05aa0bd969430';
const CONFIG =
  'edge_config:\n  bootstrap: https://example.invalid/bootstrap\nedgemicro:\n  port: 8000\n  plugins:\n    sequence:\n      - oauth\n';
const APP = join(REPO, 'packages/gateway');

function seedEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    EDGEMICRO_ORG: 'docs',
    EDGEMICRO_ENV: 'test',
    EDGEMICRO_KEY: KEY,
    EDGEMICRO_SECRET: SECRET,
    EDGEMICRO_CONFIG: Buffer.from(CONFIG).toString('base64'),
    SERVICE_NAME: 'edgemicro',
    ...extra,
  };
}

function run(extra: Record<string, string> = {}, root = tempRoot('gw')) {
  return { root, ...dryRun(GATEWAY_ENTRYPOINT, root, APP, seedEnv(extra)) };
}

/** The arguments after `node <cli>`. */
function args(result: ReturnType<typeof run>): string[] {
  assert.equal(result.status, 0, result.stderr);
  return result.plan!.command.slice(2);
}

function failure(result: ReturnType<typeof run>, pattern: RegExp): void {
  assert.equal(result.status, 1, `expected exit 1, got ${result.status}: ${result.stdout}`);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, pattern);
}

describe('gateway entrypoint: the seed examples', () => {
  it('runs `edgemicro start` in the container root with org, env, config dir, plugin dir and processes', () => {
    const result = run({ EDGEMICRO_PROCESSES: '1' });
    assert.deepEqual(args(result), [
      'start',
      '-o',
      'docs',
      '-e',
      'test',
      '-c',
      join(result.root, '.edgemicro'),
      '-d',
      join(result.root, 'plugins'),
      '-p',
      '1',
    ]);
    assert.equal(result.plan!.cwd, result.root);
    assert.equal(result.plan!.command[0], process.execPath);
    assert.equal(result.plan!.logFile, join(result.root, 'logs/edgemicro.log'));
    assert.equal(result.plan!.stopDelaySeconds, 0);
  });

  it('decodes EDGEMICRO_CONFIG to <org>-<env>-config.yaml, readable by its owner only, and does not pass it on', () => {
    const result = run();
    const path = join(result.root, '.edgemicro/docs-test-config.yaml');
    assert.equal(readFileSync(path, 'utf8'), CONFIG);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(result.plan!.env.EDGEMICRO_CONFIG, undefined);
  });

  it('accepts base64 as GNU base64 writes it (lines of 76) and without padding', () => {
    const long = `${CONFIG}# ${'x'.repeat(300)}\n`;
    const wrapped = Buffer.from(long).toString('base64').replace(/.{76}/g, '$&\n');
    let result = run({ EDGEMICRO_CONFIG: wrapped });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(readFileSync(join(result.root, '.edgemicro/docs-test-config.yaml'), 'utf8'), long);
    result = run({ EDGEMICRO_CONFIG: Buffer.from('a: 1\n').toString('base64').replace(/=+$/, '') });
    assert.equal(readFileSync(join(result.root, '.edgemicro/docs-test-config.yaml'), 'utf8'), 'a: 1\n');
  });

  it('keeps key and secret off the command line and out of its output; the CLI gets them in its environment', () => {
    const result = run({ EDGEMICRO_PROCESSES: '2', EDGEMICRO_PORT: '8443' });
    for (const text of [...result.plan!.command, result.stdout, result.stderr]) {
      assert.ok(!text.includes(KEY) && !text.includes(SECRET));
    }
    assert.equal(result.plan!.env.EDGEMICRO_KEY, '<redacted>');
    assert.equal(result.plan!.env.EDGEMICRO_SECRET, '<redacted>');
  });

  it('honours EDGEMICRO_PORT together with EDGEMICRO_PROCESSES (edgemicro issue #291)', () => {
    const a = args(run({ EDGEMICRO_PORT: '8443', EDGEMICRO_PROCESSES: '4' }));
    assert.deepEqual(a.slice(a.indexOf('-r'), a.indexOf('-r') + 4), ['-r', '8443', '-p', '4']);
    assert.deepEqual(args(run({ EDGEMICRO_PORT: '8443' })).slice(-2), ['-r', '8443']);
    // Without EDGEMICRO_PORT the config file's edgemicro.port decides: no -r.
    assert.ok(!args(run()).includes('-r'));
  });

  it("ignores the seed's misspelt EDGEMICRO_PROCESS with a warning", () => {
    const result = run({ EDGEMICRO_PROCESS: '1' });
    assert.ok(!args(result).includes('-p'));
    assert.match(result.stderr, /EDGEMICRO_PROCESS is not a setting .*EDGEMICRO_PROCESSES/);
  });

  it('option A: the mounted /opt/apigee/plugins is the default plugin directory', () => {
    const root = tempRoot('gw');
    mkdirSync(join(root, 'plugins/response-uppercase'), { recursive: true });
    const a = args(run({}, root));
    assert.equal(a[a.indexOf('-d') + 1], join(root, 'plugins'));
  });

  it('option B: EDGEMICRO_PLUGIN_DIR=/opt/apigee/customplugins/plugins, which must exist', () => {
    const root = tempRoot('gw');
    const dir = join(root, 'customplugins/plugins');
    failure(
      run({ EDGEMICRO_PLUGIN_DIR: dir }, root),
      /EDGEMICRO_PLUGIN_DIR .*customplugins\/plugins is not a directory/,
    );
    mkdirSync(dir, { recursive: true });
    const a = args(run({ EDGEMICRO_PLUGIN_DIR: dir }, root));
    assert.equal(a[a.indexOf('-d') + 1], dir);
  });

  it('EDGEMICRO_LOCAL_PROXY: a synthetic proxy edgemicro_<SERVICE_NAME> on / to localhost:<CONTAINER_PORT>', () => {
    const result = run({ EDGEMICRO_LOCAL_PROXY: '1', CONTAINER_PORT: '3000' });
    assert.deepEqual(args(result).slice(-8), [
      '-a',
      'edgemicro_edgemicro',
      '-v',
      '1',
      '-b',
      '/',
      '-t',
      'http://localhost:3000',
    ]);
    assert.equal(result.plan!.env.EDGEMICRO_DECORATOR, '1');
    assert.equal(result.plan!.env.EDGEMICRO_LOCAL_PROXY, '1');
  });

  it('EDGEMICRO_LOCAL_PROXY on Kubernetes: service from POD_NAME, port from <SERVICE>_SERVICE_PORT_HTTP', () => {
    const env = seedEnv({
      EDGEMICRO_LOCAL_PROXY: '1',
      POD_NAME: 'orders-7d9f8-abcde',
      ORDERS_SERVICE_PORT_HTTP: '8080',
    });
    delete (env as Record<string, string | undefined>).SERVICE_NAME;
    const result = dryRun(GATEWAY_ENTRYPOINT, tempRoot('gw'), APP, env);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(result.plan!.command.slice(-8), [
      '-a',
      'edgemicro_orders',
      '-v',
      '1',
      '-b',
      '/',
      '-t',
      'http://localhost:8080',
    ]);
  });

  it('EDGEMICRO_LOCAL_PROXY without a target port is an error naming both ways to give it', () => {
    failure(run({ EDGEMICRO_LOCAL_PROXY: '1' }), /set CONTAINER_PORT \(or EDGEMICRO_SERVICE_PORT_HTTP\)/);
    failure(
      run({ EDGEMICRO_LOCAL_PROXY: '1', CONTAINER_PORT: 'http' }),
      /CONTAINER_PORT must be a whole number from 1 to 65535/,
    );
    failure(
      run({ EDGEMICRO_LOCAL_PROXY: '1', EDGEMICRO_LOCAL: '1', CONTAINER_PORT: '1' }),
      /cannot both be set/,
    );
  });

  it('EDGEMICRO_STOP_DELAY: 1-1800 seconds, anything else means 5 (as edgemicro), unset means none', () => {
    assert.equal(run().plan!.stopDelaySeconds, 0);
    assert.equal(run({ EDGEMICRO_STOP_DELAY: '30' }).plan!.stopDelaySeconds, 30);
    assert.equal(run({ EDGEMICRO_STOP_DELAY: '1800' }).plan!.stopDelaySeconds, 1800);
    for (const bad of ['0', '1801', '-3', '2.5', 'soon']) {
      const result = run({ EDGEMICRO_STOP_DELAY: bad });
      assert.equal(result.plan!.stopDelaySeconds, 5, bad);
      assert.match(result.stderr, /EDGEMICRO_STOP_DELAY .* using 5/);
    }
  });

  it('LOG_CONSOLE_OUTPUT_TO_FILE=false in any case keeps console output off the log file', () => {
    for (const off of ['false', 'False', 'FALSE'])
      assert.equal(run({ LOG_CONSOLE_OUTPUT_TO_FILE: off }).plan!.logFile, null);
    assert.ok(run({ LOG_CONSOLE_OUTPUT_TO_FILE: 'true' }).plan!.logFile);
  });

  it('passes DEBUG, HTTP_PROXY, HTTPS_PROXY, NO_PROXY and the TLS variables through to the CLI', () => {
    const root = tempRoot('gw');
    const ca = join(root, '.edgemicro/rootca.pem');
    mkdirSync(join(root, '.edgemicro'), { recursive: true });
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n');
    const env = {
      DEBUG: '*',
      HTTP_PROXY: 'http://10.203.0.1:5187/',
      HTTPS_PROXY: 'http://10.203.0.1:5187/',
      NO_PROXY: 'localhost,127.0.0.1,localaddress,.localdomain.com',
      NODE_EXTRA_CA_CERTS: ca,
      NODE_TLS_REJECT_UNAUTHORIZED: '0',
    };
    const result = run(env, root);
    assert.equal(result.status, 0, result.stderr);
    for (const [name, value] of Object.entries(env)) assert.equal(result.plan!.env[name], value, name);
    assert.match(result.stderr, /NODE_TLS_REJECT_UNAUTHORIZED=0: certificates .* are not verified/);
  });
});

describe('gateway entrypoint: bad input stops the container with a message naming the variable', () => {
  it('bad base64 in EDGEMICRO_CONFIG: exit 1, nothing written (edgemicro ignored it, issue #288)', () => {
    for (const [value, pattern] of [
      [
        'this is not base64!',
        /EDGEMICRO_CONFIG is not valid base64: character " " at offset 4|character "!"/,
      ],
      ['ZWRnZW1pY3Jv$', /EDGEMICRO_CONFIG is not valid base64: character "\$" at offset 12/],
      ['ZWRnZ', /EDGEMICRO_CONFIG is not valid base64: .*truncated/],
      ['ZWRnZW1==', /EDGEMICRO_CONFIG is not valid base64: .*truncated/],
      [
        Buffer.from([0xff, 0xfe, 0x00, 0x80]).toString('base64'),
        /EDGEMICRO_CONFIG decodes to bytes that are not UTF-8/,
      ],
    ] as const) {
      const result = run({ EDGEMICRO_CONFIG: value });
      failure(result, pattern);
      assert.ok(!existsSync(join(result.root, '.edgemicro/docs-test-config.yaml')));
    }
  });

  it('missing organization, environment, key or secret', () => {
    const result = dryRun(GATEWAY_ENTRYPOINT, tempRoot('gw'), APP, { EDGEMICRO_ORG: 'docs' });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /missing EDGEMICRO_ENV, EDGEMICRO_KEY, EDGEMICRO_SECRET/);
  });

  it('an organization or environment that is not a plain name (it becomes a file name)', () => {
    failure(run({ EDGEMICRO_ORG: '../etc' }), /EDGEMICRO_ORG "\.\.\/etc" is not an organization/);
    failure(run({ EDGEMICRO_ENV: 'a/b' }), /EDGEMICRO_ENV "a\/b" is not/);
  });

  it('ports and process counts that are not numbers in range', () => {
    failure(
      run({ EDGEMICRO_PORT: '99999' }),
      /EDGEMICRO_PORT must be a whole number from 1 to 65535, got "99999"/,
    );
    failure(run({ EDGEMICRO_PORT: '80a' }), /EDGEMICRO_PORT must be/);
    failure(run({ EDGEMICRO_PROCESSES: '0' }), /EDGEMICRO_PROCESSES must be a whole number from 1 to 1024/);
    failure(run({ EDGEMICRO_PROCESSES: 'auto' }), /EDGEMICRO_PROCESSES must be/);
  });

  it('NODE_EXTRA_CA_CERTS naming a file that is not there (node would only warn and go on)', () => {
    failure(
      run({ NODE_EXTRA_CA_CERTS: '/opt/apigee/.edgemicro/rootca.pem.missing' }),
      /NODE_EXTRA_CA_CERTS .*rootca\.pem\.missing cannot be read: ENOENT/,
    );
  });
});

describe('gateway entrypoint: a mounted .edgemicro (the TLS examples)', () => {
  it('leaves an identical config file alone, and names the file it cannot write', (t) => {
    const root = tempRoot('gw');
    const dir = join(root, '.edgemicro');
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'docs-test-config.yaml');
    writeFileSync(path, CONFIG, { mode: 0o444 });
    const same = run({}, root);
    assert.equal(same.status, 0, same.stderr);
    assert.match(same.stderr, /EDGEMICRO_CONFIG matches .*docs-test-config\.yaml/);
    if (process.getuid?.() === 0) {
      t.diagnostic('running as root: a read-only file is still writable, the EACCES case is not observable');
      return;
    }
    const other = run({ EDGEMICRO_CONFIG: Buffer.from('edgemicro: {}\n').toString('base64') }, root);
    failure(other, /cannot write EDGEMICRO_CONFIG to .*docs-test-config\.yaml: EACCES/);
  });
});
