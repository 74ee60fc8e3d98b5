#!/usr/bin/env node
// Build step: puts a package's CLI on PATH as /usr/local/bin/<command> (a two-line sh wrapper, since
// tsc does not mark its output executable). A build whose package has no such CLI yet gets a
// warning, not a failure; the entrypoint then says what is missing when the container starts.
// Usage: link-bin.mjs <package dir> <command> [node binary]
import { chmodSync, writeFileSync } from 'node:fs';
import { packageBin } from './package-bin.mjs';

const [packageDir, command, node = process.execPath] = process.argv.slice(2);
let bin;
try {
  bin = packageBin(packageDir, command);
} catch (err) {
  process.stderr.write(`link-bin: warning: ${err.message}\n`);
  process.exit(0);
}
const wrapper = `/usr/local/bin/${command}`;
writeFileSync(wrapper, `#!/bin/sh\nexec ${node} ${bin} "$@"\n`);
chmodSync(wrapper, 0o755);
process.stdout.write(`link-bin: ${wrapper} runs ${bin}\n`);
