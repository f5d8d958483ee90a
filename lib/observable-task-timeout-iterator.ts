import { ObservableTaskStatusUpdate } from './observable-task-status-update.js';
import { isFinalStatus } from './observable-task-status.js';
import type { IterableTaskFunction, ObservableTaskUpdates } from './observable-task.js';
import { checkObject, invalidType, outOfRange } from './internal/validate.js';

/** Options of `new ObservableTaskTimeoutIterator()`. */
export interface ObservableTaskTimeoutIteratorOptions {
  /** The task to watch. */
  iterableTask: IterableTaskFunction;
  /** Seconds without an update after which the task ends `timed_out`. Above 0, at most 2^31/1000. */
  inactivityTimeout: number;
}

/** The DOMException the task's signal is aborted with when it times out. */
export function inactivityTimeoutError(seconds: number): DOMException {
  return new DOMException(`no status update for ${seconds} s (inactivityTimeout)`, 'TimeoutError');
}

/**
 * Wraps an iterable task: when no update arrives for `inactivityTimeout` seconds it yields
 * `timed_out`, aborts the task's signal and closes the inner generator. The timeout fires
 * even when the task is stuck on a promise that never settles: the inner generator is
 * closed without waiting for it (its `finally` runs once its pending await settles,
 * which a signal-aware await does at once).
 */
export class ObservableTaskTimeoutIterator {
  readonly iterableTask: IterableTaskFunction;
  readonly inactivityTimeout: number;

  /** @throws {TypeError|RangeError} for a missing task or an invalid timeout. */
  constructor(options: ObservableTaskTimeoutIteratorOptions) {
    const o = checkObject('options', options);
    if (typeof o.iterableTask !== 'function') {
      throw invalidType(
        'options.iterableTask',
        'a function returning an (async) iterable',
        o.iterableTask,
      );
    }
    const timeout = o.inactivityTimeout;
    if (typeof timeout !== 'number')
      throw invalidType('options.inactivityTimeout', 'a number of seconds', timeout);
    if (!(timeout > 0) || timeout * 1000 > 2 ** 31 - 1) {
      throw outOfRange(
        'options.inactivityTimeout',
        'a number of seconds above 0 and at most 2147483',
        timeout,
      );
    }
    this.iterableTask = o.iterableTask as IterableTaskFunction;
    this.inactivityTimeout = timeout;
  }

  /** Runs the wrapped task under the timeout. `signal` aborts it from outside. */
  async *iterate(signal: AbortSignal): AsyncGenerator<ObservableTaskStatusUpdate, void, undefined> {
    const controller = new AbortController();
    // One listener for the whole run: it aborts the inner task and wakes the step that
    // is waiting, so that a cancelled task's timer cannot keep the process alive.
    let wake: ((why: typeof ABORTED) => void) | undefined;
    const forward = (): void => {
      controller.abort(signal.reason);
      wake?.(ABORTED);
    };
    if (signal.aborted) forward();
    else signal.addEventListener('abort', forward, { once: true });
    const iterator = toAsyncIterator(this.iterableTask(controller.signal));
    const timeoutMs = this.inactivityTimeout * 1000;
    const step = (next: Promise<IteratorResult<ObservableTaskStatusUpdate>>) => {
      if (signal.aborted) return Promise.resolve(ABORTED);
      let timer: NodeJS.Timeout | undefined;
      const stop = new Promise<typeof TIMED_OUT | typeof ABORTED>((resolve) => {
        timer = setTimeout(resolve, timeoutMs, TIMED_OUT);
        wake = resolve;
      });
      return Promise.race([next, stop]).finally(() => {
        clearTimeout(timer);
        wake = undefined;
      });
    };
    // `ended`: the task ended by itself (returned, or yielded a final status), so it is
    // closed without aborting its signal. `innerClosed`: it is closed already, or needs no closing.
    let ended = false;
    let innerClosed = false;
    try {
      for (;;) {
        const next = iterator.next();
        const outcome = await step(next);
        if (outcome === TIMED_OUT || outcome === ABORTED) {
          // Never await the pending next() or a return() queued behind it: the task may be
          // stuck forever. Swallow their late outcome so it cannot become an unhandled
          // rejection; the abort lets signal-aware awaits settle and run `finally`.
          next.catch(ignore);
          innerClosed = true;
          controller.abort(
            outcome === TIMED_OUT ? inactivityTimeoutError(this.inactivityTimeout) : signal.reason,
          );
          iterator.return?.().catch(ignore);
          // Aborted from outside (cancel, close): the consumer has stopped listening.
          if (outcome === ABORTED) return;
          ended = true;
          yield new ObservableTaskStatusUpdate('timed_out', {
            inactivityTimeout: this.inactivityTimeout,
          });
          return;
        }
        if (outcome.done) {
          ended = innerClosed = true;
          return;
        }
        // Set before the yield: a consumer that stops at a final status closes us there.
        ended = isFinalStatus(outcome.value?.status);
        yield outcome.value;
        if (ended) return;
      }
    } finally {
      signal.removeEventListener('abort', forward);
      // Closed early by the consumer (cancel, close) or at a final status: close the inner
      // task too, and abort its signal unless it ended by itself.
      if (!ended) controller.abort(signal.reason);
      if (!innerClosed) iterator.return?.().catch(ignore);
    }
  }
}

const TIMED_OUT = Symbol('timed out');
const ABORTED = Symbol('aborted');

function ignore(): void {}

/** Internal. An async iterator over sync or async updates. */
export function toAsyncIterator(
  updates: ObservableTaskUpdates,
): AsyncIterator<ObservableTaskStatusUpdate> {
  const asyncIterable = updates as AsyncIterable<ObservableTaskStatusUpdate>;
  if (updates !== null && typeof asyncIterable[Symbol.asyncIterator] === 'function') {
    return asyncIterable[Symbol.asyncIterator]();
  }
  const iterable = updates as Iterable<ObservableTaskStatusUpdate>;
  if (updates !== null && typeof iterable[Symbol.iterator] === 'function') {
    const sync = iterable[Symbol.iterator]();
    return {
      next: async () => sync.next(),
      return: async () => sync.return?.() ?? { done: true, value: undefined },
    };
  }
  throw invalidType(
    'iterableTask()',
    'to return an (async) iterable of ObservableTaskStatusUpdate',
    updates,
  );
}
