/**
 * Turns task data into the JSON text stored in a row, and back. Data that cannot be
 * serialized or does not fit `dataSize` is replaced by a small marker object that says
 * so; the task never sees an error from here.
 */
import type { DropReason } from './internal/native.js';

/** The marker stored instead of data that was dropped. */
export interface DroppedDataMarker {
  $dropped: 'data_too_large' | 'data_not_serializable';
  /** Why: the serialization error, or the size that did not fit. Left out when even the
   * sentence would not fit the row (dataSize of 64 to about 200 bytes). */
  detail?: string;
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
  // Any property of an Error can be reassigned: only strings are stored as strings.
  const out: SerializedError = {
    name: typeof error.name === 'string' ? error.name : 'Error',
    message: typeof error.message === 'string' ? error.message : printable(error.message),
  };
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') out.code = code;
  if (typeof error.stack === 'string') out.stack = error.stack;
  return out;
}

/**
 * Serializes `data` (null and undefined store nothing) into JSON of at most `limit`
 * bytes of UTF-8. Never throws: cycles, BigInt, functions and symbols become a
 * `data_not_serializable` marker, and data longer than `limit` a `data_too_large` one,
 * except an Error, which keeps its name, message and code and loses its stack first.
 * Every marker fits any row (the smallest dataSize is 64 bytes).
 */
export function serializeData(data: unknown, limit: number): SerializedData {
  try {
    return serializeFitted(data, limit);
  } catch (error) {
    // Getters and proxies can throw from anywhere; the task must not see it.
    return notSerializable(printable(error instanceof Error ? error.message : error), limit);
  }
}

/** String(value), or a description when even that throws (an object without prototype). */
function printable(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function serializeFitted(data: unknown, limit: number): SerializedData {
  if (data === null || data === undefined) return { text: '' };
  const value = data instanceof Error ? serializeError(data) : data;
  // Cycles and BigInt throw here; serializeData() turns that into the marker.
  const text: string | undefined = JSON.stringify(value);
  if (typeof text !== 'string') return notSerializable(`a ${typeof data} is not JSON`, limit);
  const bytes = utf8Length(text, limit);
  if (bytes <= limit) return { text };
  const detail = `task data of ${bytes} bytes did not fit dataSize ${limit}`;
  const fitted = data instanceof Error ? fitError(value as SerializedError, limit) : undefined;
  return {
    text:
      fitted ??
      markerText(
        'data_too_large',
        `${bytes} bytes of JSON do not fit the row's dataSize of ${limit} bytes`,
        limit,
      ),
    dropped: 'data_too_large',
    detail: fitted === undefined ? detail : `${detail}; the error was stored cut`,
  };
}

/**
 * UTF-8 length of `text`, computed only when it could exceed `limit`: a UTF-16 code unit
 * is at most 3 bytes of UTF-8 (a pair of them 4), so short strings skip the count.
 */
function utf8Length(text: string, limit: number): number {
  return text.length * 3 <= limit ? text.length : Buffer.byteLength(text);
}

function notSerializable(detail: string, limit: number): SerializedData {
  return {
    text: markerText('data_not_serializable', detail, limit),
    dropped: 'data_not_serializable',
    detail: `task data could not be serialized: ${detail}`,
  };
}

/** The marker with its detail when that fits `limit` bytes, else without. */
function markerText(kind: DroppedDataMarker['$dropped'], detail: string, limit: number): string {
  const full = JSON.stringify({
    $dropped: kind,
    detail: detail.slice(0, 200),
  } satisfies DroppedDataMarker);
  return Buffer.byteLength(full) <= limit
    ? full
    : JSON.stringify({ $dropped: kind } satisfies DroppedDataMarker);
}

/**
 * An error that does not fit `limit`: without its stack, with the stack cut to what
 * fits, or else with its message cut. Undefined when not even a cut message fits.
 */
function fitError(error: SerializedError, limit: number): string | undefined {
  const { stack, ...rest } = error;
  const bare = JSON.stringify(rest);
  if (Buffer.byteLength(bare) > limit) {
    return longestFitting(rest.message, (message) => JSON.stringify({ ...rest, message }), limit);
  }
  if (stack === undefined) return bare;
  return longestFitting(stack, (cut) => JSON.stringify({ ...rest, stack: cut }), limit, 1) ?? bare;
}

/**
 * The JSON that `build` makes of the longest prefix of `text` (cut between characters)
 * whose result fits `limit` bytes; undefined when a prefix of `minLength` units does not.
 * A binary search: it runs only for data that was too large.
 */
function longestFitting(
  text: string,
  build: (prefix: string) => string,
  limit: number,
  minLength = 0,
): string | undefined {
  const fits = (length: number): string | undefined => {
    const json = build(cutBetweenCharacters(text, length));
    return Buffer.byteLength(json) <= limit ? json : undefined;
  };
  let best = fits(minLength);
  if (best === undefined) return undefined;
  let low = minLength;
  let high = text.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    const json = fits(mid);
    if (json === undefined) high = mid - 1;
    else {
      best = json;
      low = mid;
    }
  }
  return best;
}

/** The first `length` UTF-16 units of `text`, one fewer if that would split a pair. */
function cutBetweenCharacters(text: string, length: number): string {
  if (length >= text.length) return text;
  const last = text.charCodeAt(length - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? length - 1 : length);
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
