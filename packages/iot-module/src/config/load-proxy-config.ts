// The IoT module's configuration pipeline: template → rendered nginx text → parsed → native config.
// Errors keep their types: a broken template throws TemplateError (template line), a broken nginx
// configuration throws RenderedConfigError, an NginxConfigError whose line is the template's.
import type { GatehouseConfig } from '@gatehouse/core';
import { compile, NginxConfigError, parse } from '../nginx/index.js';
import { renderTemplate, type RenderOptions, type TemplateNotice } from '../template/index.js';
import { templateLineOf } from './template-line-map.js';

export interface LoadProxyConfigOptions {
  /** The template text (the packaged default, a file, or the twin's `proxy_config`). */
  template: string;
  /** Environment the template is rendered with, usually `process.env`. */
  env: Readonly<Record<string, string | undefined>>;
  /** Directory relative certificate and CA paths resolve against (the module uses `/app`). */
  confDir: string;
  /** Name of the template in error messages. Default `nginx_config.conf` (the module's file name). */
  templateFile?: string;
  /** Host name → address for upstream names (Docker names such as `edgehub`, `registry`, the parent). */
  hosts?: Record<string, string>;
  /** Address bound for wildcard `listen`s. Default `0.0.0.0`. */
  listenAddress?: string;
  /** Body limit where `client_max_body_size` is unset; default 1048576 (nginx's 1m); 0 = unlimited. */
  defaultMaxBodySize?: number;
  /** Overrides of the reserved template values (`TOKEN_SERVER_PORT` when the token server moves). */
  reserved?: RenderOptions['reserved'];
  /** Overrides of the template defaults (`NGINX_DEFAULT_PORT`, `NGINX_DEFAULT_TLS`). */
  templateDefaults?: RenderOptions['defaults'];
  /** Pool upstream connections (nginx does not). Default true. */
  upstreamKeepAlive?: boolean;
}

export interface ConfigNotice {
  /** Which step noticed it. */
  source: 'template' | 'nginx';
  message: string;
}

export interface LoadedProxyConfig {
  config: GatehouseConfig;
  /** The rendered nginx text (what the Rust module would have written to disk for nginx). */
  rendered: string;
  notices: ConfigNotice[];
}

/** An nginx error in the rendered text, re-addressed to the template line it came from. */
export class RenderedConfigError extends NginxConfigError {
  constructor(
    source: NginxConfigError,
    file: string,
    line: number,
    /** Line in the rendered text (what nginx itself would have reported). */
    readonly renderedLine: number,
    /** The offending rendered line, for the operator. */
    readonly renderedText: string,
  ) {
    super(source.reason, file, line, source.column);
    this.name = 'RenderedConfigError';
  }
}

export const DEFAULT_TEMPLATE_FILE = 'nginx_config.conf';

export function loadProxyConfig(options: LoadProxyConfigOptions): LoadedProxyConfig {
  const file = options.templateFile ?? DEFAULT_TEMPLATE_FILE;
  const renderOptions: RenderOptions = {
    env: options.env,
    ...(options.reserved ? { reserved: options.reserved } : {}),
    ...(options.templateDefaults ? { defaults: options.templateDefaults } : {}),
  };
  const rendered = renderTemplate(options.template, renderOptions);
  const notices: ConfigNotice[] = rendered.notices.map((n: TemplateNotice) => ({
    source: 'template',
    message: n.line === undefined ? `${file}: ${n.message}` : `${file}:${n.line}: ${n.message}`,
  }));
  try {
    // Notices name lines of the rendered text (the file the Rust module writes for nginx).
    const ast = parse(rendered.text, { file: `${file} (rendered)` });
    const compiled = compile(ast, {
      confDir: options.confDir,
      ...(options.hosts ? { hosts: options.hosts } : {}),
      ...(options.listenAddress !== undefined ? { listenAddress: options.listenAddress } : {}),
      ...(options.defaultMaxBodySize !== undefined ? { defaultMaxBodySize: options.defaultMaxBodySize } : {}),
      ...(options.upstreamKeepAlive !== undefined ? { upstreamKeepAlive: options.upstreamKeepAlive } : {}),
    });
    for (const message of compiled.notices) notices.push({ source: 'nginx', message });
    return { config: compiled.config, rendered: rendered.text, notices };
  } catch (err) {
    if (!(err instanceof NginxConfigError)) throw err;
    throw readdress(err, file, options.template, renderOptions, rendered.text);
  }
}

function readdress(
  err: NginxConfigError,
  file: string,
  template: string,
  renderOptions: RenderOptions,
  renderedText: string,
): RenderedConfigError {
  const lineText = (renderedText.split('\n')[err.line - 1] ?? '').replace(/\r$/, '');
  const templateLine = templateLineOf(template, renderOptions, err.line) ?? err.line;
  return new RenderedConfigError(err, file, templateLine, err.line, lineText);
}
