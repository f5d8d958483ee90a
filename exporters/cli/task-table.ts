#!/usr/bin/env node
/**
 * `task-table`: the command-line interface of observable-task-table (package.json `bin`).
 * Dispatches to one module per command. Exit codes: 0 success, 1 failure (a missing
 * table, a busy port, no such task), 2 bad usage; errors are one line on stderr.
 */
import { ObservableTaskTableError } from '../../lib/index.js';
import {
  CliError,
  UsageError,
  argumentUsageError,
  parseCommandArgs,
  type Command,
} from './args.js';
import { cancelCommand } from './commands/cancel.js';
import { demoCommand } from './commands/demo.js';
import { inspectCommand } from './commands/inspect.js';
import { lsCommand } from './commands/ls.js';
import { rmCommand } from './commands/rm.js';
import { serveCommand } from './commands/serve.js';
import { topCommand } from './commands/top.js';

const COMMANDS: readonly Command[] = [
  serveCommand,
  lsCommand,
  topCommand,
  cancelCommand,
  inspectCommand,
  rmCommand,
  demoCommand,
];

function topLevelHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return (
    'Usage: task-table <command> [options]\n\n' +
    'Watch the tasks of an observable-task-table from the shell, and serve them to Prometheus,\n' +
    'OpenTelemetry and a live dashboard.\n\n' +
    'Commands:\n' +
    COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n') +
    '\n\nRun `task-table <command> --help` for the options of a command.\n'
  );
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(topLevelHelp());
    return 2;
  }
  if (name === '--help' || name === '-h' || (name === 'help' && rest.length === 0)) {
    process.stdout.write(topLevelHelp());
    return 0;
  }
  // `task-table help ls` is `task-table ls --help`.
  const command = findCommand(name === 'help' ? (rest[0] as string) : name);
  if (name === 'help') {
    if (rest.length > 1) throw new UsageError(`unexpected argument '${rest[1]}' for 'help'`);
    parseCommandArgs(command, ['--help']);
    return 0;
  }
  const args = parseCommandArgs(command, rest);
  if (args === null) return 0;
  try {
    return await command.run(args);
  } catch (error) {
    throw argumentUsageError(error, command.name) ?? error;
  }
}

/** The command called `name`. @throws {UsageError} when there is none. */
function findCommand(name: string): Command {
  const command = COMMANDS.find((c) => c.name === name);
  if (command !== undefined) return command;
  const what = name.startsWith('-') ? `unknown option '${name}'` : `unknown command '${name}'`;
  throw new UsageError(what);
}

function report(error: unknown): number {
  if (error instanceof UsageError) {
    const help =
      error.command === undefined ? 'task-table --help' : `task-table ${error.command} --help`;
    process.stderr.write(`task-table: ${error.message} (see ${help})\n`);
    return 2;
  }
  // The library's errors already say what happened and what to do, in one line.
  if (error instanceof CliError || error instanceof ObservableTaskTableError) {
    process.stderr.write(`task-table: ${error.message}\n`);
    return 1;
  }
  process.stderr.write(
    `task-table: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  return 1;
}

/**
 * A reader that goes away early (`task-table ls | head`) closes the pipe; the next write
 * fails with EPIPE. That is how pipelines end, not a failure: exit at once, quietly, with
 * the status decided so far (0 unless the command already failed), as common CLIs do.
 * Any other write error stays an error.
 */
function exitQuietlyWhenPipeCloses(stream: NodeJS.WriteStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit();
  });
}

exitQuietlyWhenPipeCloses(process.stdout);
exitQuietlyWhenPipeCloses(process.stderr);

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.exitCode = report(error);
  },
);
