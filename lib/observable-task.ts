import type { ObservableTaskStatusUpdate } from './observable-task-status-update.js';
import { ObservableTaskTimeoutIterator } from './observable-task-timeout-iterator.js';
import { checkObject, checkString, invalidType } from './internal/validate.js';

/** What a task yields: status updates, synchronously or asynchronously. */
export type ObservableTaskUpdates =
  AsyncIterable<ObservableTaskStatusUpdate> | Iterable<ObservableTaskStatusUpdate>;

/**
 * The work of a task: a function (usually an `async function*`) that receives an
 * AbortSignal, aborted when the task is cancelled or times out, and returns the updates.
 */
export type IterableTaskFunction = (signal: AbortSignal) => ObservableTaskUpdates;

/** Anything accepted as `iterableTask`. */
export type IterableTask = IterableTaskFunction | ObservableTaskTimeoutIterator;

/** Options of `new ObservableTask()`. */
export interface ObservableTaskOptions {
  /** The work: a generator function, or an ObservableTaskTimeoutIterator wrapping one. */
  iterableTask: IterableTask;
  /** Shown in the table; cut to 255 bytes of UTF-8. */
  name: string;
  /** Groups tasks in metrics; cut to 255 bytes of UTF-8. */
  category: string;
}

/** A unit of work for `table.observe()`: an iterable task with a name and a category. */
export class ObservableTask {
  readonly iterableTask: IterableTask;
  readonly name: string;
  readonly category: string;

  /** @throws {TypeError} for a missing or mistyped option. */
  constructor(options: ObservableTaskOptions) {
    const o = checkObject('options', options);
    if (
      typeof o.iterableTask !== 'function' &&
      !(o.iterableTask instanceof ObservableTaskTimeoutIterator)
    ) {
      throw invalidType(
        'options.iterableTask',
        'a function returning an (async) iterable of ObservableTaskStatusUpdate, or an ObservableTaskTimeoutIterator',
        o.iterableTask,
      );
    }
    this.iterableTask = o.iterableTask as IterableTask;
    this.name = checkString('options.name', o.name);
    this.category = checkString('options.category', o.category);
  }

  /** Seconds without an update after which the task times out, when it has a timeout. */
  get inactivityTimeout(): number | null {
    return this.iterableTask instanceof ObservableTaskTimeoutIterator
      ? this.iterableTask.inactivityTimeout
      : null;
  }

  /** Starts the work. Internal use: called once by the table. */
  start(signal: AbortSignal): ObservableTaskUpdates {
    const task = this.iterableTask;
    return task instanceof ObservableTaskTimeoutIterator ? task.iterate(signal) : task(signal);
  }
}
