// Bridging a downstream's own requests (sampling, elicitation, roots) to a host at MCP 2026-07-28,
// which has no server-to-client requests: the host's call is answered with an `input_required`
// result naming what the server asked (SEP-2322), while the server's call is held open; the host
// retries with `inputResponses` and the `requestState` we minted, the answers go to the server,
// and the retry is answered with what comes next: the call's result, or the server's next
// question.
//
// The held call lives in this process: a retry that a balancer sends to another process finds no
// such state and is refused with a reason (README "Protocol revisions"). The state is a random
// 128-bit token naming an entry here, new each round; it carries nothing a client could alter to
// its advantage.
import { randomUUID } from 'node:crypto';
import type { Result, ServerRequest } from '@modelcontextprotocol/server';
import { systemTimers, unrefd, type TimerHandle, type Timers } from '../time.js';

/** How long a held call waits for the host's retry before it is cancelled. */
export const DEFAULT_HOLD_MS = 5 * 60_000;

/** What a held call does next: ask the host (one or more requests, by key), or finish. */
export type Round<T> = { kind: 'ask'; inputRequests: InputRequests; requestState: string } | { kind: 'done'; value: T };

type InputRequests = Record<string, { method: string; params?: unknown }>;

export class BridgeError extends Error {
  override name = 'BridgeError';
}

interface Asked {
  req: ServerRequest;
  resolve: (r: Result) => void;
  reject: (e: Error) => void;
}

/** One downstream call held across the host's rounds. */
class Held<T> {
  /** Changes every round: a retry answers one round, once. */
  token = randomUUID();
  /** Questions not yet sent to the host, and those sent and not yet answered, by key. */
  private readonly fresh = new Map<string, Asked>();
  private readonly open = new Map<string, Asked>();
  private next = 0;
  private wake?: () => void;
  private outcome?: { ok: true; value: T } | { ok: false; error: unknown };
  private timer?: TimerHandle;

  constructor(
    work: Promise<T>,
    private readonly onExpire: () => void,
  ) {
    work.then(
      (value) => this.settle({ ok: true, value }),
      (error: unknown) => this.settle({ ok: false, error }),
    );
  }

  /** The server asks the host something: it waits for the host's next round. */
  ask(req: ServerRequest): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.fresh.set(`q${++this.next}`, { req, resolve, reject });
      this.wake?.();
    });
  }

  /** The host's answers to the questions it was sent; an answer to nothing we asked is ignored. */
  answer(responses: Record<string, unknown> | undefined): void {
    for (const [key, a] of this.open) {
      if (responses && Object.prototype.hasOwnProperty.call(responses, key)) {
        this.open.delete(key);
        a.resolve(responses[key] as Result);
      }
    }
  }

  /**
   * Waits for the next thing to tell the host: the call's end, or the questions it has not
   * answered yet (new ones, and any a retry left unanswered).
   */
  async round(): Promise<{ kind: 'ask'; inputRequests: InputRequests } | { kind: 'done'; value: T }> {
    for (;;) {
      if (this.fresh.size) {
        // Questions asked together go together.
        await new Promise((r) => setImmediate(r));
        for (const [key, a] of this.fresh) this.open.set(key, a);
        this.fresh.clear();
      }
      if (this.outcome) {
        if (this.outcome.ok) return { kind: 'done', value: this.outcome.value };
        throw this.outcome.error;
      }
      if (this.open.size) {
        const inputRequests: InputRequests = {};
        for (const [key, { req }] of this.open) inputRequests[key] = { method: req.method, ...(req.params !== undefined && { params: req.params }) };
        return { kind: 'ask', inputRequests };
      }
      await new Promise<void>((r) => (this.wake = r));
      this.wake = undefined;
    }
  }

  /** Restarts the wait for the host's retry. */
  arm(timers: Timers, ms: number): void {
    timers.clearTimeout(this.timer);
    this.timer = unrefd(timers.setTimeout(() => this.expire(), ms));
  }

  disarm(timers: Timers): void {
    timers.clearTimeout(this.timer);
  }

  /** The host never came back: the server's questions fail and the call is cancelled. */
  expire(): void {
    const gone = new BridgeError('the host did not answer in time');
    for (const a of [...this.fresh.values(), ...this.open.values()]) a.reject(gone);
    this.fresh.clear();
    this.open.clear();
    this.onExpire();
  }

  private settle(o: NonNullable<Held<T>['outcome']>): void {
    this.outcome = o;
    this.wake?.();
  }
}

export class InputBridge {
  private readonly held = new Map<string, Held<unknown>>();
  private readonly timers: Timers;

  constructor(opts: { timers?: Timers; holdMs?: number } = {}) {
    this.timers = opts.timers ?? systemTimers;
    this.holdMs = opts.holdMs ?? DEFAULT_HOLD_MS;
  }

  private readonly holdMs: number;

  /** Whether a requestState names a call held here. */
  holds(requestState: string): boolean {
    return this.held.has(requestState);
  }

  /** Calls held now (for tests and shutdown). */
  get size(): number {
    return this.held.size;
  }

  /**
   * Starts a call whose server may ask the host things: `run` gets the `ask` to hand the
   * downstream's requests to, and `cancel` is called if the host never comes back.
   */
  start<T>(run: (ask: (req: ServerRequest) => Promise<Result>) => Promise<T>, cancel: () => void): Promise<Round<T>> {
    // The work starts a tick later, once `held` exists for its questions.
    const held: Held<T> = new Held<T>(
      Promise.resolve().then(() => run((req) => held.ask(req))),
      () => {
        this.held.delete(held.token);
        cancel();
      },
    );
    this.held.set(held.token, held as Held<unknown>);
    return this.next(held);
  }

  /** The host's retry: its answers go to the held call, and the next round comes back. */
  resume<T>(requestState: string, responses: Record<string, unknown> | undefined): Promise<Round<T>> {
    const held = this.held.get(requestState) as Held<T> | undefined;
    if (!held) {
      return Promise.reject(
        new BridgeError('requestState names no call held here: it ended, its wait for the host timed out, or another process holds it (a 2026-07-28 retry must reach the process that asked)'),
      );
    }
    held.disarm(this.timers);
    held.answer(responses);
    return this.next(held);
  }

  /** Cancels every held call (shutdown). */
  close(): void {
    for (const h of [...this.held.values()]) h.expire();
  }

  private async next<T>(held: Held<T>): Promise<Round<T>> {
    try {
      const round = await held.round();
      this.held.delete(held.token);
      if (round.kind === 'done') return round;
      // A fresh state for each round, so that each retry answers exactly the round it was given.
      held.token = randomUUID();
      this.held.set(held.token, held as Held<unknown>);
      held.arm(this.timers, this.holdMs);
      return { ...round, requestState: held.token };
    } catch (e) {
      this.held.delete(held.token);
      throw e;
    }
  }
}
