/** Waiting for Ctrl-C, a service manager's stop or a time limit, for long-running commands. */

/** Why a long-running command stops. */
export type ShutdownReason = 'SIGINT' | 'SIGTERM' | 'duration';

/**
 * Resolves with the first SIGINT or SIGTERM, or 'duration' once `durationMs` has passed.
 * While it waits, a timer keeps the process alive: the collector's server is unref()'d by
 * design and would not. A second signal during shutdown exits at once with 130. Aborting
 * `signal` stops the wait (the promise then never settles), for a command that fails
 * before it gets to wait.
 */
export function waitForShutdown(
  durationMs?: number,
  signal?: AbortSignal,
): Promise<ShutdownReason> {
  return new Promise((resolve) => {
    const timer =
      durationMs === undefined
        ? setInterval(() => undefined, 1 << 30)
        : setTimeout(() => done('duration'), durationMs);
    const onSignal = (name: NodeJS.Signals): void => done(name as ShutdownReason);
    function stop(): void {
      clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      signal?.removeEventListener('abort', stop);
    }
    function done(reason: ShutdownReason): void {
      stop();
      const force = (): void => process.exit(130);
      process.once('SIGINT', force);
      process.once('SIGTERM', force);
      resolve(reason);
    }
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    signal?.addEventListener('abort', stop, { once: true });
  });
}
