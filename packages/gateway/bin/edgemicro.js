#!/usr/bin/env node
// The `edgemicro` command: a committed launcher (it exists before the build, so installing the
// workspace links it) that runs the compiled CLI.
import('../dist/cli/main.js').catch((err) => {
  console.error(`edgemicro: cannot load the CLI (${err && err.message}); run pnpm build first`);
  process.exit(1);
});
