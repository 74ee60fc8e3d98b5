// The IoT module entrypoint's own logic in dry-run mode: the IoT Edge environment edgeAgent gives
// a module is checked, and `iot-module run` is started in /app with its template.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { dryRun, IOT_ENTRYPOINT, REPO, tempRoot } from './run-entrypoint.js';

const APP = join(REPO, 'packages/iot-module');
// What edgeAgent sets for a module (CreateOrUpdateCommand.cs), lower layer of the seed.
const EDGE_ENV = {
  IOTEDGE_WORKLOADURI: 'unix:///var/run/iotedge/workload.sock',
  IOTEDGE_MODULEID: 'IoTEdgeAPIProxy',
  IOTEDGE_MODULEGENERATIONID: '637391357290417588',
  IOTEDGE_DEVICEID: 'lower-device',
  IOTEDGE_IOTHUBHOSTNAME: 'myhub.azure-devices.net',
  IOTEDGE_GATEWAYHOSTNAME: 'lower-device.local',
  IOTEDGE_PARENTHOSTNAME: 'top-device.local',
  IOTEDGE_AUTHSCHEME: 'sasToken',
  IOTEDGE_APIVERSION: '2019-01-30',
  NGINX_DEFAULT_PORT: '8000',
};

describe('iot-module entrypoint', () => {
  it('runs `iot-module run` in the root with --conf-dir and the template kept there', () => {
    const root = tempRoot('iot');
    copyFileSync(join(APP, 'templates/nginx_default_config.conf'), join(root, 'nginx_default_config.conf'));
    const result = dryRun(IOT_ENTRYPOINT, root, APP, EDGE_ENV);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.plan!.command[0], process.execPath);
    assert.equal(result.plan!.command[1], join(APP, 'bin/iot-module.js'));
    assert.deepEqual(result.plan!.command.slice(2), [
      'run',
      '--conf-dir',
      root,
      '--template',
      join(root, 'nginx_default_config.conf'),
    ]);
    assert.equal(result.plan!.cwd, root);
    for (const [name, value] of Object.entries(EDGE_ENV)) assert.equal(result.plan!.env[name], value, name);
  });

  it('without a template in the root, the packaged default applies', () => {
    const root = tempRoot('iot');
    const result = dryRun(IOT_ENTRYPOINT, root, APP, EDGE_ENV);
    assert.deepEqual(result.plan!.command.slice(2), ['run', '--conf-dir', root]);
  });

  it('runs the module with GATEHOUSE_MODULE_NODE, the copy of node allowed to bind 443 in the image', () => {
    const result = dryRun(IOT_ENTRYPOINT, tempRoot('iot'), APP, {
      ...EDGE_ENV,
      GATEHOUSE_MODULE_NODE: '/opt/node-bind',
    });
    assert.equal(result.plan!.command[0], '/opt/node-bind');
  });

  it('falls back to plain node where the capability cannot be granted (no-new-privileges)', (t) => {
    if (spawnSync('setpriv', ['--version']).error) {
      t.skip('setpriv (util-linux) is not installed');
      return;
    }
    const env = { ...EDGE_ENV, GATEHOUSE_MODULE_NODE: '/opt/node-bind', GATEHOUSE_ENTRYPOINT_DRY_RUN: '1' };
    const root = tempRoot('iot');
    const r = spawnSync('setpriv', ['--no-new-privs', process.execPath, IOT_ENTRYPOINT], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, GATEHOUSE_CONTAINER_ROOT: root, GATEHOUSE_APP_DIR: APP, ...env },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { command: string[] }).command[0], process.execPath);
  });

  it('names every missing IoT Edge variable and exits 1', () => {
    const result = dryRun(IOT_ENTRYPOINT, tempRoot('iot'), APP, { IOTEDGE_MODULEID: 'IoTEdgeAPIProxy' });
    assert.equal(result.status, 1);
    assert.equal(result.stdout, '');
    assert.match(
      result.stderr,
      /missing IOTEDGE_WORKLOADURI, IOTEDGE_MODULEGENERATIONID, IOTEDGE_DEVICEID, IOTEDGE_IOTHUBHOSTNAME, IOTEDGE_GATEWAYHOSTNAME \(edgeAgent sets them/,
    );
  });

  it('refuses malformed values with their names', () => {
    for (const [override, pattern] of [
      [
        { IOTEDGE_WORKLOADURI: 'https://workload:15580' },
        /IOTEDGE_WORKLOADURI "https:\/\/workload:15580" must be unix:\/\/\/path or http:\/\/host:port/,
      ],
      [{ IOTEDGE_WORKLOADURI: 'unix://' }, /IOTEDGE_WORKLOADURI/],
      [{ IOTEDGE_AUTHSCHEME: 'x509' }, /IOTEDGE_AUTHSCHEME "x509" is not supported/],
      [{ IOTEDGE_MODULEID: 'a/b' }, /IOTEDGE_MODULEID "a\/b" is not an IoT Hub identity/],
      [{ NGINX_DEFAULT_PORT: '70000' }, /NGINX_DEFAULT_PORT must be a whole number from 1 to 65535/],
    ] as const) {
      const result = dryRun(IOT_ENTRYPOINT, tempRoot('iot'), APP, { ...EDGE_ENV, ...override });
      assert.equal(result.status, 1, JSON.stringify(override));
      assert.match(result.stderr, pattern);
    }
  });

  it('accepts the workload URI over http, as edgelet allows', () => {
    const result = dryRun(IOT_ENTRYPOINT, tempRoot('iot'), APP, {
      ...EDGE_ENV,
      IOTEDGE_WORKLOADURI: 'http://127.0.0.1:15581',
    });
    assert.equal(result.status, 0, result.stderr);
  });
});
