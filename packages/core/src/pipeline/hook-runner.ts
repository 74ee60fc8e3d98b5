// Runs a list of edgemicro hooks in order for one request: each gets `next`, may call it at once or
// later, pass data on, stop the chain (`next(true)`: it answered) or fail it. Synchronous `next`
// calls loop without recursion; a hook that never calls `next` is bounded by the hook timeout.
import type { Logger } from '../observability/logger.js';
import type { Stage } from './chain.js';
import { errorText } from './error-response.js';
import { NativeContext, runControlHook } from './native-plugin.js';
import type { HookData, Next, PluginRequest, PluginResponse, PluginStats, TargetResponse } from './types.js';

/** What every exchange of one pipeline shares. */
export interface ExchangeEnv {
  readonly log: Logger;
  readonly stats: PluginStats;
  /** Bound on a hook that has not called next; undefined → the server's requestTimeoutMs; 0 → none. */
  readonly hookTimeoutMs: number | undefined;
}

export type HookDone = (err: unknown, stop: boolean, data: HookData) => void;

export abstract class HookRunner {
  /** The client has its answer (or is gone): no further hook runs, late callbacks are ignored. */
  settled = false;
  targetResponse: TargetResponse | null = null;
  private timer: NodeJS.Timeout | undefined = undefined;
  private waits = 0;
  private lastWait: Stage | undefined = undefined;
  private nativeContext: NativeContext | undefined = undefined;

  constructor(
    readonly env: ExchangeEnv,
    readonly req: PluginRequest,
    readonly res: PluginResponse,
    private readonly timeoutMs: number,
  ) {}

  /** Answer with the plugin error answer; the upstream exchange, if any, is aborted. */
  abstract fail(err: unknown, status?: number): void;

  /** Run stages in order; `data` flows through `next(null, data)`. `always`: run even once settled
   *  (close hooks). */
  run(stages: readonly Stage[], data: HookData, cb: HookDone, always = false): void {
    let i = 0;
    let current = data;
    const answerStops = stages[0]?.event === 'onrequest' || stages[0]?.event === 'onresponse';
    // Whether to go on after `stage` called next with `err`, `argc` arguments and `value`.
    const handle = (stage: Stage, err: unknown, argc: number, value: unknown): boolean => {
      if (err === true) {
        cb(undefined, true, current);
        return false;
      }
      if (err) {
        this.env.log.warn({ plugin: stage.plugin, event: stage.event, err: errorText(err) }, 'plugin error');
        cb(err, false, current);
        return false;
      }
      if (argc >= 2) current = (value ?? null) as HookData;
      if (answerStops && (this.res.headersSent || this.res.writableEnded)) {
        cb(undefined, true, current);
        return false;
      }
      return true;
    };
    const loop = (): void => {
      while (i < stages.length) {
        if (this.settled && !always) return;
        const stage = stages[i++]!;
        // 0: not called yet; 1: called during the hook; 2: the hook returned without calling it.
        let state = 0;
        let err: unknown;
        let argc = 0;
        let value: unknown;
        const next: Next = function (this: unknown, e?: unknown, v?: Buffer | string | null) {
          if (state === 1 || state === 3) return;
          const n = arguments.length;
          if (state === 0) {
            state = 1;
            err = e;
            argc = n;
            value = v;
            return;
          }
          state = 3;
          runner.endWait();
          if (runner.settled && !always) return;
          if (handle(stage, e, n, v)) loop();
        };
        try {
          this.call(stage, current, next);
        } catch (thrown) {
          if (state === 1)
            this.env.log.warn(
              { plugin: stage.plugin, event: stage.event, err: errorText(thrown) },
              'plugin threw after calling next',
            );
          else {
            state = 1;
            err = thrown ?? new Error(`plugin ${stage.plugin} threw`);
            argc = 1;
          }
        }
        if (state === 0) {
          state = 2;
          this.beginWait(stage);
          return;
        }
        if (!handle(stage, err, argc, value)) return;
      }
      cb(undefined, false, current);
    };
    const runner = this;
    loop();
  }

  private call(stage: Stage, data: HookData, next: Next): void {
    if (stage.native !== undefined)
      return runControlHook(
        stage.native,
        (this.nativeContext ??= new NativeContext(this.req, this.res, this)),
        next,
      );
    const fn = stage.fn as (...args: unknown[]) => void;
    switch (stage.arity) {
      case 3:
        return fn.call(stage.self, this.req, this.res, next);
      case 4:
        return fn.call(stage.self, this.req, this.res, data, next);
      case 5:
        return fn.call(stage.self, this.req, this.res, this.targetResponse, data, next);
      default:
        // edgemicro calls other arities without arguments.
        return fn.call(stage.self);
    }
  }

  /** A hook has not called next yet: the hook timeout runs. */
  beginWait(stage: Stage): void {
    this.waits++;
    this.lastWait = stage;
    if (!this.timeoutMs || this.settled) return;
    if (this.timer) this.timer.refresh();
    else this.timer = setTimeout(this.onTimeout, this.timeoutMs);
  }

  private endWait(): void {
    if (this.waits > 0) this.waits--;
  }

  /** No hook can run any more (the client response closed). */
  stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  private readonly onTimeout = (): void => {
    if (this.waits === 0 || this.settled) return;
    const s = this.lastWait;
    this.env.log.warn(
      { plugin: s?.plugin, event: s?.event, timeoutMs: this.timeoutMs },
      'plugin did not call next in time',
    );
    this.fail(new Error('Gateway timed out waiting for a plugin'), 504);
  };
}
