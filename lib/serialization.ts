/**
 * Turns task data into the JSON text stored in a row, and back. Data that cannot be
 * serialized or does not fit `dataSize` is replaced by a small marker object that says
 * so; the task never sees an error from here.
 */
import type { DropReason } from './internal/native.js';

/** The marker stored instead of data that was dropped. */
export interface DroppedDataMarker {
  $dropped: 'data_too_large' | 'data_not_serializable';
  /** Why: the serialization error, or the size that did not fit. */
  detail: string;
}

/** Result of {@link serializeData}: the text to store, and the drop reason if any. */
export interface SerializedData {
  text: string | undefined;
  dropped?: DropReason;
  detail?: string;
}

/** Shape in which Error objects are stored. */
export interface SerializedError {
  name: string;
  message: string;
  code?: string | number;
  stack?: string;
}

/** Converts an Error into the plain object stored in the table. */
export function serializeError(error: unknown): SerializedError | unknown {
  if (!(error instanceof Error)) return error;
  const out: SerializedError = { name: error.name, message: error.message };
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') out.code = code;
  if (typeof error.stack === 'string') out.stack = error.stack;
  return out;
}

/**
 * Serializes `data` (null and undefined store nothing). Never throws: cycles, BigInt,
 * functions and symbols become a `data_not_serializable` marker.
 */
export function serializeData(data: unknown): SerializedData {
  if (data === null || data === undefined) return { text: '' };
  try {
    const text = JSON.stringify(data instanceof Error ? serializeError(data) : data);
    if (typeof text !== 'string') {
      return notSerializable(`a ${typeof data} is not JSON`);
    }
    return { text };
  } catch (error) {
    return notSerializable(error instanceof Error ? error.message : String(error));
  }
}

function notSerializable(detail: string): SerializedData {
  return {
    text: markerText('data_not_serializable', detail),
    dropped: 'data_not_serializable',
    detail: `task data could not be serialized: ${detail}`,
  };
}

/** The marker for data of `bytes` bytes that did not fit `limit`. */
export function tooLargeMarker(bytes: number, limit: number): string {
  return markerText(
    'data_too_large',
    `${bytes} bytes of JSON do not fit the row's dataSize of ${limit} bytes`,
  );
}

function markerText(kind: DroppedDataMarker['$dropped'], detail: string): string {
  return JSON.stringify({
    $dropped: kind,
    detail: detail.slice(0, 200),
  } satisfies DroppedDataMarker);
}

/**
 * Deepest nesting of stored data that is parsed. JSON.parse handles any depth, but every
 * reader serializes the value again (the JSON API, the dashboard, the live feed), and
 * JSON.stringify recurses: about 5,000 levels overflow the stack, so a single row of
 * `[[[…]]]` (a hostile process can write one) would fail every page that lists it.
 */
const MAX_DATA_DEPTH = 1000;

/** True when `text` nests arrays and objects deeper than `limit` (strings skipped). */
function nestsDeeperThan(text: string, limit: number): boolean {
  // Valid JSON deeper than `limit` needs more than 2 * limit characters, so rows of the
  // default dataSize (1 KiB) are never scanned; invalid JSON fails JSON.parse anyway.
  if (text.length <= 2 * limit) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      // A backslash escapes the next character; a quote ends the string.
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/**
 * Parses stored data; '' is null. A row cut by a corrupt writer, or nested too deep to
 * serialize again, reads as a marker.
 */
export function parseData(text: string): unknown {
  if (text === '') return null;
  if (nestsDeeperThan(text, MAX_DATA_DEPTH)) {
    return {
      $dropped: 'data_not_serializable',
      detail: `stored data is nested more than ${MAX_DATA_DEPTH} levels deep`,
    };
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { $dropped: 'data_not_serializable', detail: 'stored data is not valid JSON' };
  }
}
