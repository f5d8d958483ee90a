/** Waiting for Ctrl-C, a service manager's stop or a time limit, for long-running commands. */

/** Why a long-running command stops. */
export type ShutdownReason = 'SIGINT' | 'SIGTERM' | 'duration';

/**
 * Resolves with the first SIGINT or SIGTERM, or 'duration' once `durationMs` has passed.
 * While it waits, a timer keeps the process alive: the collector's server is unref()'d by
 * design and would not. A second signal during shutdown exits at once with 130.
 */
export function waitForShutdown(durationMs?: number): Promise<ShutdownReason> {
  return new Promise((resolve) => {
    const timer =
      durationMs === undefined
        ? setInterval(() => undefined, 1 << 30)
        : setTimeout(() => done('duration'), durationMs);
    const onSignal = (signal: NodeJS.Signals): void => done(signal as ShutdownReason);
    function done(reason: ShutdownReason): void {
      clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      const force = (): void => process.exit(130);
      process.once('SIGINT', force);
      process.once('SIGTERM', force);
      resolve(reason);
    }
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
