// The call pipeline: the one policy of a forwarded `tools/call`, whichever path carries its bytes
// (the SDK client, or the lane, ./lane.ts, which skips the SDK for speed and decides nothing).
// For each call it owns:
// - the dataset hint: a call whose arguments name a dataset makes that dataset current for the
//   session (the analogue of the original upload callback) at once, so the caller's next call
//   sees it; its run is made only when something is filed there. A call that names a dataset
//   routes into that dataset's run, or reports why it cannot;
// - the timeout, reset by every progress notification, and what happens when it runs out;
// - progress, passed on to the caller under the caller's own token;
// - the answer: the server's result as it came, or, for a tool on the routing allowlist, the
//   routing hook's result and the host's "routed N files" logging message;
// - failures: a server that could not answer becomes an isError result, anything else a
//   protocol error, both through ../server/errors.ts.
import type { CallToolResult, LoggingMessageNotification, Progress, ProgressToken, ServerNotification } from '@modelcontextprotocol/server';
import type { Logger } from '../log.js';
import { failureResult, timeoutFailure, toProtocolError, type DownstreamFailure } from '../server/errors.js';
import type { RouteOutcome, RouteRequest } from '../routing/router.js';
import { systemTimers, unrefd, type TimerHandle, type Timers } from '../time.js';
import type { WorkspaceSession } from '../workspace/session.js';
import type { RouteMode, RunTarget } from '../workspace/types.js';
import { LOGGER_NAME, datasetHint, routeResult } from './route-hook.js';

/** Where a call goes, decided from the catalog and the allowlist. */
export interface CallTarget {
  server: string;
  /** The downstream's own name for the tool. */
  tool: string;
  /** The name the host called it by. */
  exposed: string;
  /** On the routing allowlist: its results go through the routing hook. */
  routes: boolean;
  /** Where relative paths in its results point (a stdio server's working folder). */
  baseDir?: string;
  /** ms; reset by progress. */
  timeoutMs: number;
}

/** The caller's side of one call, supplied by the path that carries it. */
export interface CallCaller {
  session: WorkspaceSession;
  /** The caller's progress token, when it asked for progress. */
  progressToken?: ProgressToken;
  /** A notification to the caller, related to this call. */
  notify(n: ServerNotification): Promise<void>;
  /** A logging message to this caller, honouring the level it set. */
  log(params: LoggingMessageNotification['params']): Promise<void>;
}

export interface PipelineDeps {
  route: (req: RouteRequest) => Promise<RouteOutcome>;
  mode: RouteMode;
  /** Result keys the config adds (`routing.resultKeys`). */
  resultKeys?: Readonly<Record<string, string>>;
  datasetArgs: readonly string[];
  /** Files an inner artifact-workspace stored under another root: copied (default) or linked. */
  otherRoots?: 'copy' | 'link';
  log: Logger;
  timers?: Timers;
}

export class CallPipeline {
  private readonly timers: Timers;

  constructor(private readonly d: PipelineDeps) {
    this.timers = d.timers ?? systemTimers;
  }

  /** The argument names a dataset hint is read from. */
  get datasetArgs(): readonly string[] {
    return this.d.datasetArgs;
  }

  /**
   * A call starts: its hint is acted on and its clock runs; `onTimeout` is told once if it runs
   * out. `named` is the run the call named by handle; `dataset`, the dataset a proxy in front named
   * in `_meta` (README "Chaining"), a hint when the arguments name none.
   */
  begin(target: CallTarget, args: Record<string, unknown> | undefined, caller: CallCaller, onTimeout: () => void, named?: RunTarget, dataset?: string, opts: { hint?: boolean } = {}): ForwardedCall {
    return new ForwardedCall(target, args, caller, this.d, this.timers, onTimeout, named, dataset, opts.hint ?? true);
  }
}

/**
 * The answer to a call whose result comes later (a task's, README "Tasks"): routed as any
 * allowlisted call's, into `run` (decided when the call was made), with no clock of its own.
 */
export function answerLater(pipeline: CallPipeline, target: CallTarget, args: Record<string, unknown> | undefined, caller: CallCaller, run: RunTarget | undefined, result: CallToolResult): Promise<CallToolResult | undefined> {
  // The arguments' dataset hint was acted on when the call was made, not again now.
  const call = pipeline.begin(target, args, caller, () => {}, run, undefined, { hint: false });
  call.end();
  return call.answer(result);
}

export class ForwardedCall {
  /** The dataset the call's arguments named, if they named one. */
  private readonly hinted?: string;
  private timer?: TimerHandle;
  private over = false;

  constructor(
    readonly target: CallTarget,
    private readonly args: Record<string, unknown> | undefined,
    private readonly caller: CallCaller,
    private readonly d: PipelineDeps,
    private readonly timers: Timers,
    private readonly onTimeout: () => void,
    /** The run the call named by handle (`_meta["artifact-workspace/workspace"]`), already adopted by the session; it wins over a dataset hint. */
    private readonly named?: RunTarget,
    dataset?: string,
    /** False: the arguments' dataset was acted on already (a task's, when it was made). */
    hinting = true,
  ) {
    const hint = named || !hinting ? undefined : (datasetHint(args, d.datasetArgs) ?? dataset);
    this.hinted = hint === undefined ? undefined : caller.session.select(hint);
    this.arm();
  }

  /** Progress from the server: the clock starts again, and the caller hears it under its own token. */
  progress(p: Record<string, unknown>): void {
    if (this.over) return;
    this.arm();
    const token = this.caller.progressToken;
    if (token !== undefined) void this.caller.notify({ method: 'notifications/progress', params: { ...p, progressToken: token } as Progress & { progressToken: ProgressToken } }).catch(() => {});
  }

  /** Whether the call is over (answered, failed, cancelled or timed out). */
  get ended(): boolean {
    return this.over;
  }

  /** The call is over (answered, failed or cancelled): the clock stops. False if it already was over. */
  end(): boolean {
    if (this.over) return false;
    this.over = true;
    this.timers.clearTimeout(this.timer);
    return true;
  }

  /**
   * Whether the host gets the server's answer as written whatever it holds (answer() would say
   * so): off the allowlist, or an answer that is not a result. A carrier may then send it at once,
   * without asking answer().
   */
  asWritten(isResult: boolean): boolean {
    return !this.target.routes || !isResult;
  }

  /** The failure the timeout stands for. */
  timedOut(): DownstreamFailure {
    return timeoutFailure(this.target.server, 'tools/call', this.target.timeoutMs);
  }

  /**
   * What the host gets for the server's result: undefined to send it as the server wrote it (off
   * the allowlist, an error, nothing to route), else the routed result. `result` is undefined
   * when the server's answer was not a tool result (it goes back as written, unrouted).
   */
  async answer(result: CallToolResult | undefined): Promise<CallToolResult | undefined> {
    if (!result || this.asWritten(true)) return undefined;
    const outcome = await routeResult(
      { tool: this.target.tool, args: this.args, result, run: () => this.run(), baseDir: this.target.baseDir },
      { route: this.d.route, mode: this.d.mode, log: this.d.log, resultKeys: this.d.resultKeys, otherRoots: this.d.otherRoots },
    );
    if (outcome.kind === 'pass') return undefined;
    if (outcome.message) {
      this.d.log.info(`${this.target.exposed}: ${outcome.message}`);
      await this.caller.log({ level: 'info', logger: LOGGER_NAME, data: outcome.message }).catch(() => {});
    }
    return outcome.result;
  }

  /** What the host gets when the server could not answer: an isError result with its reason. */
  async failed(f: DownstreamFailure): Promise<CallToolResult> {
    return failureResult(f);
  }

  /** Anything else that went wrong, as the protocol error the host gets. */
  async error(e: unknown): Promise<Error> {
    return toProtocolError(e);
  }

  /**
   * Where this call's files go, as far as a server behind us that is an artifact-workspace needs
   * to know (README "Chaining"): the run (made now when the call is routed here, as it would be
   * after; else the session's, if it has one), and the dataset.
   */
  async chain(): Promise<{ run?: RunTarget; dataset?: string }> {
    const run = this.named ?? (this.target.routes ? await this.run() : await this.caller.session.currentRun());
    return { run, dataset: run?.dataset ?? this.hinted ?? this.caller.session.current };
  }

  /**
   * The run to route into: the one the call named by handle, else by dataset (a named dataset that cannot be opened is a
   * routing failure, reported as such, never a silent fallback), else the session's current run.
   */
  async run(): Promise<RunTarget> {
    const { session } = this.caller;
    if (this.named) return this.named;
    if (this.hinted !== undefined) return (await session.ensure(this.hinted)).run;
    return (await session.currentRun()) ?? (await session.ensure()).run;
  }

  private arm(): void {
    this.timers.clearTimeout(this.timer);
    this.timer = unrefd(
      this.timers.setTimeout(() => {
        if (this.end()) this.onTimeout();
      }, this.target.timeoutMs),
    );
  }
}
