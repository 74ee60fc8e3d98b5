#!/usr/bin/env node
// The package's `iot-module` command. A committed file, so that pnpm can link the bin when it
// installs the workspace, before `pnpm build` has made dist/ (linking a missing file warns).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('iot-module: the compiled CLI (dist/cli/main.js) is missing: run `pnpm build` first');
  process.exit(1);
}
const { runCommandLine } = await import(entry.href);
runCommandLine();
