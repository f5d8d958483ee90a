/**
 * `--status` and `--category`, as `ls` and `top` take them: each repeatable, a row matching
 * any of the values given matches (and both options, when both are given).
 */
import {
  OBSERVABLE_TASK_STATUSES,
  isObservableTaskStatus,
  type ObservableTaskTableRow,
} from '../../lib/index.js';
import { UsageError, stringValues, type OptionSpec, type OptionValues } from './args.js';
import { sanitize } from './format.js';

/** The options, for a command's `options`. */
export const ROW_FILTER_OPTIONS: Record<'status' | 'category', OptionSpec> = {
  status: {
    type: 'string',
    multiple: true,
    placeholder: 'STATUS',
    description: `only rows with this status (${OBSERVABLE_TASK_STATUSES.join(', ')})`,
  },
  category: {
    type: 'string',
    multiple: true,
    placeholder: 'CATEGORY',
    description: 'only rows of this category',
  },
};

/** Which rows to keep. */
export interface RowFilter {
  /** True when no option was given: every row matches. */
  readonly all: boolean;
  matches(row: ObservableTaskTableRow): boolean;
  /** The options as given, for messages: `--status running --category reports`. */
  readonly text: string;
}

/**
 * Reads the filter options of `command`.
 * @throws {UsageError} for a status that does not exist.
 */
export function parseRowFilter(values: OptionValues, command: string): RowFilter {
  const statuses = stringValues(values, 'status');
  for (const status of statuses) {
    if (!isObservableTaskStatus(status)) {
      throw new UsageError(
        `--status must be one of ${OBSERVABLE_TASK_STATUSES.join(', ')} (received '${status}')`,
        command,
      );
    }
  }
  const statusSet = new Set(statuses);
  const categories = new Set(stringValues(values, 'category'));
  return {
    all: statusSet.size === 0 && categories.size === 0,
    matches: (row) =>
      (statusSet.size === 0 || statusSet.has(row.status)) &&
      (categories.size === 0 || categories.has(row.category)),
    text: [
      ...[...statusSet].map((s) => `--status ${s}`),
      ...[...categories].map((c) => `--category ${sanitize(c)}`),
    ].join(' '),
  };
}
