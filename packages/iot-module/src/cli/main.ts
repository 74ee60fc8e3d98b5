#!/usr/bin/env node
// `iot-module` command line: `check` (like `nginx -t`), `render`, and `run` (next milestone).
import { readFileSync, realpathSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_TEMPLATE_PATH, renderAndCheck } from '../config/index.js';
import { parseSize } from '../nginx/index.js';
import { renderTemplate, TemplateError } from '../template/index.js';
import { RUN_ENV_HELP, runCommand } from './run-command.js';

const USAGE = `usage: iot-module <command> [options]

commands:
  check    render the template with the current environment, compile it, print the listeners
           and locations; exit status 1 on error (like nginx -t)
  render   print the rendered template (what nginx would have been given)
  run      run the proxy module: module twin, workload API certificates, token server, the proxy;
           SIGTERM/SIGINT drain in-flight requests and exit 0

options:
  --template FILE       template to render (default: the packaged default template)
  --conf-dir DIR        directory of server.crt, private_key_server.pem, trustedCA.crt (default /app)
  --max-body-size SIZE  body limit where client_max_body_size is unset (default 1m, nginx's; 0 = none)
  -h, --help            this text

${RUN_ENV_HELP}
`;

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** Runs a command and returns the exit status (`run` resolves when it stops); exported for tests. */
export function main(
  argv: string[],
  env: Readonly<Record<string, string | undefined>>,
  io: Io,
): number | Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        template: { type: 'string' },
        'conf-dir': { type: 'string' },
        'max-body-size': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    io.err(`iot-module: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const command = positionals[0];
  if (values.help || command === undefined || command === 'help') {
    (command === undefined && !values.help ? io.err : io.out)(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  if (command === 'run')
    return runCommand(
      env,
      {
        ...(values.template !== undefined ? { template: values.template } : {}),
        ...(values['conf-dir'] !== undefined ? { confDir: values['conf-dir'] } : {}),
        ...(values['max-body-size'] !== undefined ? { maxBodySize: values['max-body-size'] } : {}),
      },
      io,
    );
  if (command !== 'check' && command !== 'render') {
    io.err(`iot-module: unknown command "${command}"\n${USAGE}`);
    return 2;
  }
  const templatePath = resolve(values.template ?? DEFAULT_TEMPLATE_PATH);
  let template: string;
  try {
    template = readFileSync(templatePath, 'utf8');
  } catch (err) {
    io.err(
      `iot-module: cannot read template ${templatePath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`,
    );
    return 1;
  }
  if (command === 'render') return render(template, templatePath, env, io);
  let defaultMaxBodySize: number | undefined;
  if (values['max-body-size'] !== undefined) {
    const size = parseSize(values['max-body-size']);
    if (size === undefined) {
      io.err(`iot-module: invalid --max-body-size "${values['max-body-size']}"\n`);
      return 2;
    }
    defaultMaxBodySize = size;
  }
  const result = renderAndCheck({
    template,
    env,
    confDir: resolve(values['conf-dir'] ?? '/app'),
    templateFile: templatePath,
    ...(defaultMaxBodySize !== undefined ? { defaultMaxBodySize } : {}),
  });
  if (!result.ok) {
    io.err(`iot-module: ${result.message}\n`);
    io.err(`iot-module: configuration from ${templatePath} is invalid\n`);
    return 1;
  }
  for (const n of result.notices) io.err(`iot-module: notice: ${n.message}\n`);
  io.out(`${result.summary.join('\n')}\n`);
  io.out(`iot-module: ${basename(templatePath)} rendered and compiled; the configuration is valid\n`);
  return 0;
}

function render(
  template: string,
  templatePath: string,
  env: Readonly<Record<string, string | undefined>>,
  io: Io,
): number {
  try {
    const { text, notices } = renderTemplate(template, { env });
    for (const n of notices)
      io.err(
        `iot-module: notice: ${templatePath}${n.line === undefined ? '' : `:${n.line}`}: ${n.message}\n`,
      );
    io.out(text);
    return 0;
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    const at = err.column === undefined ? `${err.line}` : `${err.line}:${err.column}`;
    io.err(`iot-module: ${templatePath}:${at}: template error: ${err.reason}\n`);
    return 1;
  }
}

function invokedDirectly(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

/** Runs the command line of this process (the package's bin/iot-module.js calls it). */
export function runCommandLine(): void {
  const status = main(process.argv.slice(2), process.env, {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
  });
  if (typeof status === 'number') process.exitCode = status;
  else
    void status.then((code) => {
      process.exitCode = code;
      // Timers of the SDK's last connection attempt must not hold the exit.
      setTimeout(() => process.exit(code), 1000).unref();
    });
}

// Run only when executed as a program, not when imported by tests.
if (invokedDirectly()) runCommandLine();
