// The deployment files agree with the images: IoT Edge manifests (JSON, checked in full) for the
// seed's top and lower layers, and the Kubernetes manifests (checked line by line: no YAML
// library in the workspace) for the gateway's user, port, Secret and probes.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO } from './run-entrypoint.js';

interface EdgeModule {
  type: string;
  status?: string;
  settings: { image: string; createOptions: string };
  env?: Record<string, { value: string }>;
}

function manifest(name: string) {
  const text = readFileSync(join(REPO, 'docker/iotedge', name), 'utf8');
  const content = (
    JSON.parse(text) as { modulesContent: Record<string, { 'properties.desired': Record<string, unknown> }> }
  ).modulesContent;
  const agent = content.$edgeAgent!['properties.desired'] as {
    schemaVersion: string;
    systemModules: Record<string, EdgeModule>;
    modules: Record<string, EdgeModule>;
  };
  return { content, agent };
}

function bindings(module: EdgeModule): Record<string, { HostPort: string }[]> {
  return (
    JSON.parse(module.settings.createOptions) as {
      HostConfig: { PortBindings: Record<string, { HostPort: string }[]> };
    }
  ).HostConfig.PortBindings;
}

describe('IoT Edge deployment manifests (the module guide, "Download container images")', () => {
  it('top layer: proxy on 8000 routing docker requests to registry:5000, port bound, registry module present', () => {
    const { content, agent } = manifest('top-layer.deployment.json');
    const proxy = agent.modules.IoTEdgeAPIProxy!;
    assert.equal(proxy.env!.NGINX_DEFAULT_PORT!.value, '8000');
    assert.equal(proxy.env!.DOCKER_REQUEST_ROUTE_ADDRESS!.value, 'registry:5000');
    assert.deepEqual(bindings(proxy), { '8000/tcp': [{ HostPort: '8000' }] });
    assert.match(proxy.settings.image, /\/gatehouse\/api-proxy:/);
    assert.ok(agent.modules.registry, 'a registry module for the lower layers');
    assert.ok(content.$edgeHub && content.IoTEdgeAPIProxy);
    assert.equal(agent.schemaVersion, '1.1');
  });

  it("lower layer: proxy on 8000 and every image, the runtime's too, pulled through $upstream:8000", () => {
    const { agent } = manifest('lower-layer.deployment.json');
    const proxy = agent.modules.IoTEdgeAPIProxy!;
    assert.deepEqual(proxy.env, { NGINX_DEFAULT_PORT: { value: '8000' } });
    assert.deepEqual(bindings(proxy), { '8000/tcp': [{ HostPort: '8000' }] });
    for (const module of [...Object.values(agent.systemModules), ...Object.values(agent.modules)]) {
      assert.match(module.settings.image, /^\$upstream:8000\//);
    }
  });

  it('no module binds the same host port twice', () => {
    for (const name of ['top-layer.deployment.json', 'lower-layer.deployment.json']) {
      const { agent } = manifest(name);
      const ports = [...Object.values(agent.systemModules), ...Object.values(agent.modules)]
        .filter((m) => m.settings.createOptions !== '{}')
        .flatMap((m) => Object.values(bindings(m)).flatMap((b) => b.map((x) => x.HostPort)));
      assert.equal(new Set(ports).size, ports.length, `${name}: ${ports.join(', ')}`);
    }
  });
});

describe('Kubernetes manifests for the gateway', () => {
  const dir = join(REPO, 'docker/k8s');
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');

  it('kustomization lists files that exist', () => {
    const listed = [...read('kustomization.yaml').matchAll(/^ {2}- (\S+)$/gm)].map((m) => m[1]!);
    assert.deepEqual(listed.sort(), [
      'deployment.yaml',
      'hpa.yaml',
      'redis.yaml',
      'secret.yaml',
      'service.yaml',
    ]);
    for (const file of listed) assert.ok(existsSync(join(dir, file)), file);
  });

  it('the Secret carries every EDGEMICRO_* value the entrypoint needs, and the Deployment reads it', () => {
    const secret = read('secret.yaml');
    for (const name of [
      'EDGEMICRO_ORG',
      'EDGEMICRO_ENV',
      'EDGEMICRO_KEY',
      'EDGEMICRO_SECRET',
      'EDGEMICRO_CONFIG',
      'EDGEMICRO_REDIS_PASSWORD',
    ]) {
      assert.match(secret, new RegExp(`^  ${name}: `, 'm'), name);
    }
    assert.match(secret, /^ {2}name: edgemicro$/m);
    assert.match(read('deployment.yaml'), /secretRef:\n\s+name: edgemicro\n/);
  });

  it("the Deployment runs the image's user, port, probes, limits and volumes", () => {
    const deployment = read('deployment.yaml');
    assert.match(deployment, /runAsNonRoot: true\n\s+runAsUser: 101\n\s+runAsGroup: 101/);
    assert.match(deployment, /containerPort: 8000/);
    assert.match(deployment, /readinessProbe:\n\s+tcpSocket:/);
    assert.match(deployment, /livenessProbe:\n\s+tcpSocket:/);
    assert.match(deployment, /limits:\n\s+cpu: '1'\n\s+memory: 512Mi/);
    for (const path of ['/opt/apigee/.edgemicro', '/opt/apigee/logs', '/opt/apigee/plugins']) {
      assert.match(deployment, new RegExp(`mountPath: ${path.replace(/\./g, '\\.')}\n`));
    }
    const grace = Number(/terminationGracePeriodSeconds: (\d+)/.exec(deployment)![1]);
    const delay = Number(/name: EDGEMICRO_STOP_DELAY\n\s+value: '(\d+)'/.exec(deployment)![1]);
    assert.ok(delay >= 1 && delay <= 1800 && grace > delay + 10, 'the stop delay leaves time to drain');
  });

  it('the Service, the autoscaler and Redis point at what exists', () => {
    assert.match(read('service.yaml'), /targetPort: http/);
    assert.match(read('hpa.yaml'), /kind: Deployment\n\s+name: edgemicro\n/);
    assert.match(read('redis.yaml'), /kind: Service\nmetadata:\n\s+name: edgemicro-redis/);
    assert.match(read('redis.yaml'), /--requirepass "\$EDGEMICRO_REDIS_PASSWORD"/);
  });
});
