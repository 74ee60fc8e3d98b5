// The upstream request body when plugins see it: each client chunk runs through the ondata_request
// chain (source paused meanwhile, so order holds), the onend_request result is sent last. The body
// limit applies before (server/forward.ts): the source is the client's body, counted.
import { Readable } from 'node:stream';
import { withErrorPath } from '../util/error-path.js';
import type { Stage } from './chain.js';
import type { HookDone } from './hook-runner.js';
import type { HookData } from './types.js';

/** What the body stream needs from the request's exchange. */
export interface BodyOwner {
  run(stages: readonly Stage[], data: HookData, cb: HookDone): void;
  fail(err: unknown): void;
}

export class PluginRequestBody extends Readable {
  private waiting = false;

  constructor(
    private readonly req: NodeJS.ReadableStream,
    private readonly owner: BodyOwner,
    private readonly dataStages: readonly Stage[],
    private readonly endStages: readonly Stage[],
  ) {
    super();
    withErrorPath(this);
    req.on('data', this.onData);
    req.once('end', this.onEnd);
    req.once('error', (err: Error) => this.destroy(err));
  }

  override _read(): void {
    if (this.waiting) {
      this.waiting = false;
      this.req.resume();
    }
  }

  private readonly onData = (chunk: Buffer): void => {
    if (!this.dataStages.length) return this.emitChunk(chunk);
    this.req.pause();
    this.owner.run(this.dataStages, chunk, (err, stop, out) => {
      if (err) {
        this.owner.fail(err);
        this.destroy();
        return;
      }
      if (!stop && out !== null && !(out instanceof Error) && !this.push(out)) {
        this.waiting = true;
        return;
      }
      this.req.resume();
    });
  };

  private emitChunk(chunk: Buffer): void {
    if (!this.push(chunk)) {
      this.req.pause();
      this.waiting = true;
    }
  }

  private readonly onEnd = (): void => {
    if (!this.endStages.length) {
      this.push(null);
      return;
    }
    this.owner.run(this.endStages, null, (err, stop, out) => {
      if (err) {
        this.owner.fail(err);
        this.destroy();
        return;
      }
      if (!stop && out !== null && !(out instanceof Error)) this.push(out);
      this.push(null);
    });
  };
}
