/**
 * Command-line parsing for `task-table`: a small declarative spec per command, parsed with
 * node:util `parseArgs` (strict), help text generated from the same spec, and value
 * checks that turn bad input into a {@link UsageError} (exit code 2).
 */
import { parseArgs } from 'node:util';

/** One `--option` of a command. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** The option may be repeated; its value is then an array. */
  multiple?: boolean;
  /** Placeholder shown in help, e.g. `NAME`. */
  placeholder?: string;
  /** One line of help; say the default here. */
  description: string;
}

/** Values as `parseArgs` returns them. */
export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** The parsed command line of one command. */
export interface ParsedArgs {
  values: OptionValues;
  positionals: string[];
}

/** A `task-table` subcommand. `run` resolves with the process exit code. */
export interface Command {
  name: string;
  /** One line for the top-level command list. */
  summary: string;
  /** Usage after `task-table `, e.g. `ls [options]`. */
  usage: string;
  /** A paragraph shown under the usage line. */
  description: string;
  options: Record<string, OptionSpec>;
  /** Positional arguments; none when absent. */
  positionals?: { names: string[]; min: number; max: number };
  run(args: ParsedArgs): Promise<number>;
}

/** Bad usage: printed as one line on stderr with a hint, exit code 2. */
export class UsageError extends Error {
  /** The command whose `--help` the hint points at, if any. */
  readonly command: string | undefined;
  constructor(message: string, command?: string) {
    super(message);
    this.name = 'UsageError';
    this.command = command;
  }
}

/** A failure to report as one line on stderr with exit code 1 (not a usage error). */
export class CliError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
  }
}

/** The option every command has. */
const HELP_OPTION: OptionSpec = { type: 'boolean', short: 'h', description: 'show this help' };

/** Shared `--table` option text: the default is resolved by the library, as for open(). */
export const TABLE_OPTION: OptionSpec = {
  type: 'string',
  placeholder: 'NAME',
  description: 'table name (default: env OBSERVABLE_TASK_TABLE, else observable-task-table)',
};

/**
 * Parses `argv` (the arguments after the command name) for `command`. Returns null when
 * `--help` was given, after printing the help.
 * @throws {UsageError} for an unknown option, a missing value or a wrong positional count.
 */
export function parseCommandArgs(command: Command, argv: string[]): ParsedArgs | null {
  const options = { ...command.options, help: HELP_OPTION };
  let parsed: ParsedArgs;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError(describeParseError(error, argv, options), command.name);
  }
  if (parsed.values.help === true) {
    process.stdout.write(formatCommandHelp(command));
    return null;
  }
  const spec = command.positionals ?? { names: [], min: 0, max: 0 };
  const count = parsed.positionals.length;
  if (count > spec.max) {
    const extra = parsed.positionals[spec.max];
    throw new UsageError(`unexpected argument '${extra}' for '${command.name}'`, command.name);
  }
  if (count < spec.min) {
    throw new UsageError(
      `'${command.name}' needs ${spec.names[count] ?? 'an argument'}`,
      command.name,
    );
  }
  return parsed;
}

/** parseArgs's TypeError messages, reduced to one line in our voice. */
function describeParseError(
  error: unknown,
  argv: readonly string[],
  options: Record<string, OptionSpec>,
): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  const token = /'([^']+)'/.exec(message)?.[1] ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option '${token}'`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    // The token is '--port', '-p' or '-p, --port': name the option by its long form.
    const option = /--[^\s,=']+/.exec(token)?.[0] ?? token.split(' ')[0] ?? token;
    if (message.includes('argument missing')) return `option '${option}' needs a value`;
    // "ambiguous": the word after a string option starts with '-', so parseArgs does not
    // take it as the value. Either a value was forgotten (`--table --json`) or it is one
    // that starts with '-' (`--port -1`), which only the `--port=-1` form can pass.
    if (message.includes('ambiguous')) return missingValue(option, argv, options);
    return `option '${option}' does not take a value`;
  }
  return message.split('\n')[0] ?? message;
}

/** "needs a value", with how to pass the word that followed when it is not an option. */
function missingValue(
  option: string,
  argv: readonly string[],
  options: Record<string, OptionSpec>,
): string {
  const spec = options[option.slice(2)];
  const flags = new Set([option, ...(spec?.short === undefined ? [] : [`-${spec.short}`])]);
  const at = argv.findIndex((arg, i) => flags.has(arg) && argv[i + 1]?.startsWith('-'));
  const next = at === -1 ? undefined : argv[at + 1];
  if (next === undefined || next === '--' || isOptionWord(next, options)) {
    return `option '${option}' needs a value`;
  }
  return `option '${option}' needs a value (to pass one starting with '-', write ${option}=${next})`;
}

/** True when `word` names one of `options` (`--name`, `--name=…` or `-x`). */
function isOptionWord(word: string, options: Record<string, OptionSpec>): boolean {
  if (word.startsWith('--')) return Object.hasOwn(options, word.slice(2).split('=')[0] ?? '');
  return Object.values(options).some(
    (spec) => spec.short !== undefined && word.startsWith(`-${spec.short}`),
  );
}

/**
 * An argument error thrown by the library (an invalid table name from --table or env
 * OBSERVABLE_TASK_TABLE, say) as bad usage of `command`, with the library's parameter
 * (one of `from`, as in "options.name must be …") renamed to what the user typed (`to`);
 * null for any other error. ls, top, rm and the rest all word the naming rule this way.
 */
export function argumentUsageError(
  error: unknown,
  command: string | undefined,
  rename: { from: readonly string[]; to: string } = { from: ['options.name'], to: '--table' },
): UsageError | null {
  if (!(error instanceof TypeError || error instanceof RangeError)) return null;
  const code = (error as { code?: unknown }).code;
  const argumentError =
    (typeof code === 'string' && code.startsWith('ERR_INVALID_ARG')) || code === 'ERR_OUT_OF_RANGE';
  if (!argumentError) return null;
  const from = rename.from.find((prefix) => error.message.startsWith(`${prefix} `));
  const message =
    from === undefined ? error.message : `${rename.to}${error.message.slice(from.length)}`;
  return new UsageError(message.split('\n')[0] ?? message, command);
}

/** Help text of one command. */
export function formatCommandHelp(command: Command): string {
  const rows = Object.entries({ ...command.options, help: HELP_OPTION }).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}`;
    const value = spec.type === 'string' ? ` ${spec.placeholder ?? 'VALUE'}` : '';
    const repeat = spec.multiple ? '...' : '';
    return [`${flag}${value}${repeat}`, spec.description] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length));
  const lines = rows.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`);
  return (
    `Usage: task-table ${command.usage}\n\n${command.description}\n\nOptions:\n` +
    `${lines.join('\n')}\n`
  );
}

/** A string option's value, or undefined. */
export function stringValue(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/** A repeatable string option's values (empty when not given). */
export function stringValues(values: OptionValues, name: string): string[] {
  const value = values[name];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return typeof value === 'string' ? [value] : [];
}

/** A boolean flag. */
export function flagValue(values: OptionValues, name: string): boolean {
  return values[name] === true;
}

/**
 * An integer option from `min` to `max`, or `fallback` when absent.
 * @throws {UsageError} naming the option and the received text.
 */
export function integerValue(
  values: OptionValues,
  name: string,
  range: { min: number; max: number; fallback: number },
  command: string,
): number {
  const text = stringValue(values, name);
  if (text === undefined) return range.fallback;
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < range.min || value > range.max) {
    throw new UsageError(
      `--${name} must be an integer from ${range.min} to ${range.max} (received '${text}')`,
      command,
    );
  }
  return value;
}

/**
 * A positive number option (decimals allowed), or `fallback` when absent.
 * @throws {UsageError} naming the option and the received text.
 */
export function positiveNumberValue(
  values: OptionValues,
  name: string,
  fallback: number | undefined,
  command: string,
): number | undefined {
  const text = stringValue(values, name);
  if (text === undefined) return fallback;
  const value = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new UsageError(`--${name} must be a positive number (received '${text}')`, command);
  }
  return value;
}
