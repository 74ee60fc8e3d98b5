// Runs the product's CLI as the container's one child and stays PID 1 around it: output is
// streamed to stdout/stderr (and appended to a log file when asked), SIGTERM and SIGINT become an
// optional delay then SIGTERM to the child (which drains), and the container exits when the
// child does. Node cannot exec(2), so this process stays; it forwards, it never decides.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * @param {{ argv: string[], env: Record<string,string>, cwd: string, logFile?: string,
 *           stopDelaySeconds: number, name: string }} plan
 * @returns {Promise<number>} the exit status for the container
 */
export function supervise(plan) {
  return new Promise((resolve) => {
    let file;
    if (plan.logFile) {
      mkdirSync(dirname(plan.logFile), { recursive: true });
      file = createWriteStream(plan.logFile, { flags: 'a', mode: 0o640 });
      file.on('error', (err) => {
        note(
          plan.name,
          `cannot write ${plan.logFile} (${err.code ?? err.message}); console output stays on stdout only`,
        );
        file = undefined;
      });
    }
    const child = spawn(plan.argv[0], plan.argv.slice(1), {
      cwd: plan.cwd,
      env: plan.env,
      stdio: ['ignore', file ? 'pipe' : 'inherit', file ? 'pipe' : 'inherit'],
    });
    if (file) {
      for (const [from, to] of [
        [child.stdout, process.stdout],
        [child.stderr, process.stderr],
      ]) {
        from.on('data', (chunk) => {
          to.write(chunk);
          file?.write(chunk);
        });
      }
    }

    let stopping;
    const stop = (signal) => {
      if (stopping) {
        // A second signal while waiting out the delay skips what is left of it.
        if (stopping.timer) {
          clearTimeout(stopping.timer);
          stopping.timer = undefined;
          child.kill('SIGTERM');
        }
        return;
      }
      stopping = { status: signal === 'SIGINT' ? 130 : 143, timer: undefined };
      if (plan.stopDelaySeconds > 0) {
        note(plan.name, `${signal}: stopping in ${plan.stopDelaySeconds} s`);
        stopping.timer = setTimeout(() => {
          stopping.timer = undefined;
          note(plan.name, 'draining');
          child.kill('SIGTERM');
        }, plan.stopDelaySeconds * 1000);
      } else {
        note(plan.name, `${signal}: draining`);
        child.kill('SIGTERM');
      }
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    // Reload requests go to the child as they are.
    process.on('SIGHUP', () => child.kill('SIGHUP'));

    child.on('error', (err) => {
      note(plan.name, `cannot start ${plan.argv[0]}: ${err.code ?? err.message}`);
      resolve(127);
    });
    child.on('exit', (code, signal) => {
      if (stopping?.timer) clearTimeout(stopping.timer);
      const status = stopping ? stopping.status : (code ?? 128 + signalNumber(signal));
      const how = signal ? `signal ${signal}` : `status ${code}`;
      note(plan.name, `${stopping ? 'stopped' : 'exited'} with ${how}`);
      const finish = () => resolve(status);
      if (file) file.end(finish);
      else finish();
    });
  });
}

function signalNumber(signal) {
  const numbers = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGTERM: 15 };
  return numbers[signal] ?? 1;
}

export function note(name, message) {
  process.stderr.write(`${name}: ${message}\n`);
}
