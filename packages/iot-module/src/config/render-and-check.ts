// `nginx -t` for the IoT module: render and compile a template and report, without serving.
import { ConfigError } from '@gatehouse/core';
import { TemplateError } from '../template/index.js';
import { NginxConfigError } from '../nginx/index.js';
import { describeConfig } from './describe-config.js';
import { prepareProxyConfig } from './prepare-proxy-config.js';
import {
  RenderedConfigError,
  type LoadedProxyConfig,
  type LoadProxyConfigOptions,
} from './load-proxy-config.js';

export type CheckResult =
  | ({ ok: true; summary: string[] } & LoadedProxyConfig)
  | { ok: false; error: TemplateError | NginxConfigError | ConfigError; message: string };

/** Render, parse, compile and validate as the engine does (exactly what `run` does before serving);
 *  never throws for a bad template or configuration. */
export function renderAndCheck(options: LoadProxyConfigOptions & { templateFile: string }): CheckResult {
  try {
    const loaded = prepareProxyConfig(options);
    return { ok: true, summary: describeConfig(loaded.config), ...loaded };
  } catch (err) {
    if (err instanceof TemplateError) {
      const at = err.column === undefined ? `${err.line}` : `${err.line}:${err.column}`;
      return {
        ok: false,
        error: err,
        message: `${options.templateFile}:${at}: template error: ${err.reason}`,
      };
    }
    if (err instanceof RenderedConfigError) {
      const message =
        `${err.file}:${err.line}: ${err.reason}` +
        `\n  (rendered line ${err.renderedLine}: ${err.renderedText.trim()})`;
      return { ok: false, error: err, message };
    }
    if (err instanceof NginxConfigError)
      return { ok: false, error: err, message: `${err.file}:${err.line}: ${err.reason}` };
    if (err instanceof ConfigError)
      return {
        ok: false,
        error: err,
        message: `${options.templateFile}: the engine refuses the compiled configuration: ${err.message}`,
      };
    throw err;
  }
}
