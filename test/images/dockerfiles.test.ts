// Static checks of both Dockerfiles against the containers they replace: user, ports, volumes,
// entrypoint, health check, an overridable base, and every COPY source present in the repository.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { all, copyParts, last, readDockerfile, type Dockerfile } from './dockerfile.js';

const REPO = join(import.meta.dirname, '..', '..');
const rootManifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  packageManager: string;
};
const ignored = readFileSync(join(REPO, '.dockerignore'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '' && !l.startsWith('#'));

interface Expected {
  file: string;
  user: string;
  workdir: string;
  volumes: string[];
  ports: string[];
}

const IMAGES: Expected[] = [
  {
    file: 'docker/gateway/Dockerfile',
    user: '101:101',
    workdir: '/opt/apigee',
    volumes: ['/opt/apigee/.edgemicro', '/opt/apigee/logs', '/opt/apigee/plugins'],
    ports: ['8000', '8443'],
  },
  {
    file: 'docker/iot-module/Dockerfile',
    user: '13624:13624',
    workdir: '/app',
    volumes: [],
    ports: ['443', '8000'],
  },
];

function volumes(file: Dockerfile): string[] {
  return all(file.stages.at(-1)!, 'VOLUME').flatMap((v) =>
    v.args.startsWith('[') ? (JSON.parse(v.args) as string[]) : v.args.split(/\s+/),
  );
}

for (const expected of IMAGES) {
  describe(expected.file, () => {
    const file = readDockerfile(join(REPO, expected.file));
    const final = file.stages.at(-1)!;

    it('takes its base from ARG BASE_IMAGE, node:20-bookworm-slim by default, in every stage', () => {
      assert.deepEqual(
        file.preamble.map((i) => `${i.keyword} ${i.args}`),
        ['ARG BASE_IMAGE=node:20-bookworm-slim'],
      );
      for (const stage of file.stages) assert.equal(stage.from, '${BASE_IMAGE}');
      assert.ok(file.stages.length >= 2, 'a build stage and a runtime stage');
    });

    it('runs as a fixed non-root uid:gid, in its work directory', () => {
      assert.equal(last(final, 'USER')?.args, expected.user);
      assert.ok(!/^(0|root)\b/.test(expected.user));
      assert.equal(last(final, 'WORKDIR')?.args, expected.workdir);
      // Nothing after USER may need root.
      const userAt = final.instructions.indexOf(last(final, 'USER')!);
      assert.deepEqual(
        final.instructions.slice(userAt).filter((i) => i.keyword === 'RUN'),
        [],
      );
    });

    it('declares its volumes and ports', () => {
      assert.deepEqual(volumes(file).sort(), [...expected.volumes].sort());
      assert.deepEqual(
        all(final, 'EXPOSE').flatMap((e) => e.args.split(/\s+/)),
        expected.ports,
      );
    });

    it('has `entrypoint` as its exec-form ENTRYPOINT, a HEALTHCHECK and SIGTERM as stop signal', () => {
      assert.deepEqual(JSON.parse(last(final, 'ENTRYPOINT')!.args), ['entrypoint']);
      const health = last(final, 'HEALTHCHECK')!.args;
      assert.match(health, /--interval=\d+s .*--timeout=\d+s .*--retries=\d+ CMD \[/);
      const probe = (JSON.parse(health.slice(health.indexOf('CMD') + 4)) as string[])[1]!;
      assert.match(probe, /^\/usr\/local\/lib\/gatehouse\/docker\//);
      assert.equal(last(final, 'STOPSIGNAL')?.args, 'SIGTERM');
      assert.equal(all(final, 'CMD').length, 0);
    });

    it('copies only files that exist and that .dockerignore lets through', () => {
      let copies = 0;
      for (const stage of file.stages) {
        for (const copy of [...all(stage, 'COPY'), ...all(stage, 'ADD')]) {
          const { options, sources } = copyParts(copy.args);
          if (options.from !== undefined) {
            assert.ok(
              file.stages.some((s) => s.name === options.from),
              `line ${copy.line}: no stage named ${options.from}`,
            );
            continue;
          }
          for (const source of sources) {
            copies++;
            assert.ok(existsSync(join(REPO, source)), `line ${copy.line}: ${source} does not exist`);
            for (const pattern of ignored) {
              const bare = pattern.replace(/^\*\*\//, '');
              assert.ok(
                !source.split('/').includes(bare),
                `line ${copy.line}: ${source} is excluded by ${pattern}`,
              );
            }
          }
        }
      }
      assert.ok(copies > 5);
    });

    it('installs the pnpm the repository pins, with the frozen lockfile, and deploys production dependencies', () => {
      const build = file.stages[0]!;
      const runs = all(build, 'RUN').map((r) => r.args);
      assert.ok(runs.some((r) => r.includes(rootManifest.packageManager)));
      assert.ok(runs.some((r) => r.includes('pnpm install --frozen-lockfile')));
      assert.ok(runs.some((r) => /pnpm --filter @gatehouse\/[a-z-]+ deploy --prod/.test(r)));
    });

    it('copies the manifest of every workspace importer in the lockfile (else --frozen-lockfile fails)', () => {
      const lock = readFileSync(join(REPO, 'pnpm-lock.yaml'), 'utf8');
      const section = lock.slice(lock.indexOf('\nimporters:\n'), lock.indexOf('\npackages:\n'));
      const importers = [...section.matchAll(/^ {2}([^ \n][^:\n]*):$/gm)].map((m) => m[1]!);
      assert.ok(importers.length > 1, 'importers found');
      const copied = all(file.stages[0]!, 'COPY').flatMap((c) => copyParts(c.args).sources);
      for (const importer of importers) {
        const manifest = importer === '.' ? 'package.json' : `${importer}/package.json`;
        assert.ok(copied.includes(manifest), `COPY ${manifest} is missing from the build stage`);
      }
    });

    it('every script the image runs parses', () => {
      const dir = join(REPO, expected.file, '..');
      for (const script of [
        ...readdirSync(dir).filter((f) => f.endsWith('.mjs')),
        ...readdirSync(join(REPO, 'docker/common')).map((f) => `../common/${f}`),
      ]) {
        const result = spawnSync(process.execPath, ['--check', join(dir, script)], { encoding: 'utf8' });
        assert.equal(result.status, 0, `${script}: ${result.stderr}`);
      }
    });
  });
}

describe('gateway image specifics', () => {
  const final = readDockerfile(join(REPO, 'docker/gateway/Dockerfile')).stages.at(-1)!;
  const run = all(final, 'RUN')
    .map((r) => r.args)
    .join('\n');

  it('creates apigee with uid and gid 101, home /opt/apigee and a login shell (option B uses su - apigee)', () => {
    assert.match(run, /groupadd --gid 101 apigee/);
    assert.match(run, /useradd --uid 101 --gid 101 --home-dir \/opt\/apigee .*--shell \/bin\/bash apigee/);
    assert.match(run, /chown -R apigee:apigee \/opt\/apigee/);
  });

  it('has unzip for the derived plugin image, and puts entrypoint and edgemicro on PATH', () => {
    assert.match(run, /apt-get install -y --no-install-recommends unzip/);
    assert.match(
      run,
      /ln -s \.\.\/lib\/gatehouse\/docker\/gateway\/entrypoint\.mjs \/usr\/local\/bin\/entrypoint/,
    );
    assert.match(run, /link-bin\.mjs \/usr\/local\/lib\/gatehouse\/edgemicro edgemicro/);
  });
});

describe('iot-module image specifics', () => {
  const final = readDockerfile(join(REPO, 'docker/iot-module/Dockerfile')).stages.at(-1)!;
  const run = all(final, 'RUN')
    .map((r) => r.args)
    .join('\n');

  it("gives port 443 to the module's own node only, and keeps the default template in /app", () => {
    assert.match(run, /setcap cap_net_bind_service=\+ep \/usr\/local\/lib\/gatehouse\/bin\/node/);
    assert.doesNotMatch(run, /setcap [^;]*\/usr\/(local\/)?bin\/node/);
    assert.match(last(final, 'ENV')!.args, /GATEHOUSE_MODULE_NODE=\/usr\/local\/lib\/gatehouse\/bin\/node/);
    assert.ok(
      all(final, 'COPY').some((c) =>
        c.args.endsWith(
          'packages/iot-module/templates/nginx_default_config.conf /app/nginx_default_config.conf',
        ),
      ),
    );
  });
});

describe('shell scripts', () => {
  it('pass shellcheck', (t) => {
    const probe = spawnSync('shellcheck', ['--version'], { encoding: 'utf8' });
    if (probe.error) {
      t.skip('shellcheck is not installed (apt-get install shellcheck)');
      return;
    }
    const scripts = readdirSync(join(REPO, 'scripts/images'))
      .filter((f) => f.endsWith('.sh'))
      .map((f) => join(REPO, 'scripts/images', f));
    assert.ok(scripts.length > 0);
    const result = spawnSync('shellcheck', scripts, { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });
});
