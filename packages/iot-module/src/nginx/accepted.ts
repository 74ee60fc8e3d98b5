// Directives accepted for compatibility whose effect the engine provides differently or not at all.
// Their arguments are still checked like nginx would, then a notice says what happens instead.
import type { NginxDirective } from './ast.js';
import type { CompileContext } from './context.js';

const STREAMED = 'is accepted and ignored: the engine streams responses instead of buffering them';

export function acceptDirective(ctx: CompileContext, d: NginxDirective): void {
  switch (d.name) {
    case 'resolver':
      ctx.notice(
        '"resolver" is accepted and ignored: upstream names resolve through the system resolver and the compiler\'s "hosts" option',
        d,
      );
      return;
    case 'proxy_buffers':
      ctx.integer(d, 0);
      ctx.size(d, 1);
      ctx.notice(`"proxy_buffers" ${STREAMED}`, d);
      return;
    case 'proxy_buffer_size':
      ctx.size(d);
      ctx.notice(`"proxy_buffer_size" ${STREAMED}`, d);
      return;
    case 'proxy_buffering':
      ctx.flag(d);
      ctx.notice(`"proxy_buffering" ${STREAMED}`, d);
      return;
    case 'proxy_pass_request_headers':
      if (!ctx.flag(d))
        ctx.notice('"proxy_pass_request_headers off" is not supported: client headers are passed', d);
      return;
    case 'chunked_transfer_encoding':
      if (!ctx.flag(d))
        ctx.notice('"chunked_transfer_encoding off" is ignored: chunked responses stay chunked', d);
      return;
    case 'worker_connections':
      ctx.integer(d);
      ctx.notice('"worker_connections" is accepted and ignored: see the engine\'s connection limits', d);
      return;
    case 'worker_processes':
    case 'user':
    case 'pid':
    case 'worker_rlimit_nofile':
    case 'pcre_jit':
      ctx.notice(`"${d.name}" is accepted and ignored`, d);
      return;
  }
}

export const ACCEPTED_DIRECTIVES: ReadonlySet<string> = new Set([
  'resolver',
  'proxy_buffers',
  'proxy_buffer_size',
  'proxy_buffering',
  'proxy_pass_request_headers',
  'chunked_transfer_encoding',
  'worker_connections',
  'worker_processes',
  'user',
  'pid',
  'worker_rlimit_nofile',
  'pcre_jit',
]);
