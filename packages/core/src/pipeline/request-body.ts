// The upstream request body when plugins see it: each client chunk runs through the ondata_request
// chain (client paused meanwhile, so order holds), the onend_request result is sent last. Without
// body hooks the client stream is passed as it is, counted only when a limit applies.
import { Readable } from 'node:stream';
import type { ClientRequest } from '../server/request-context.js';
import { withErrorPath } from '../util/error-path.js';
import type { Stage } from './chain.js';
import type { HookData } from './types.js';

/** What the body streams need from the request's exchange. */
export interface BodyOwner {
  run(
    stages: readonly Stage[],
    data: HookData,
    cb: (err: unknown, stop: boolean, data: HookData) => void,
  ): void;
  fail(err: unknown): void;
  tooLarge(): void;
}

export class PluginRequestBody extends Readable {
  private waiting = false;
  private seen = 0;

  constructor(
    private readonly req: ClientRequest,
    private readonly owner: BodyOwner,
    private readonly dataStages: readonly Stage[],
    private readonly endStages: readonly Stage[],
    private readonly limit: number,
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
    this.seen += chunk.length;
    if (this.limit > 0 && this.seen > this.limit) {
      this.req.pause();
      this.owner.tooLarge();
      this.destroy();
      return;
    }
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
