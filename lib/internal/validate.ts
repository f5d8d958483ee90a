/**
 * Internal. Argument checks that throw Node-style TypeError/RangeError with Node's codes
 * (ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE, ERR_OUT_OF_RANGE), naming the option by
 * the path the user wrote.
 */

export type NodeArgErrorCode =
  'ERR_INVALID_ARG_TYPE' | 'ERR_INVALID_ARG_VALUE' | 'ERR_OUT_OF_RANGE';

function withCode<E extends Error>(
  error: E,
  code: NodeArgErrorCode,
): E & { code: NodeArgErrorCode } {
  return Object.assign(error, { code });
}

/** A short description of any value for a message; never throws. */
export function describe(value: unknown, depth = 0): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return value.toString();
  if (Array.isArray(value)) {
    // One level of elements, ten at most: a nested or cyclic array stays short.
    if (depth > 0) return 'an array';
    const shown = value.slice(0, 10).map((item: unknown) => describe(item, depth + 1));
    return `[${shown.join(', ')}${value.length > 10 ? ', …' : ''}]`;
  }
  if (value !== null && typeof value === 'object') return 'an object';
  return String(value);
}

export function invalidType(path: string, expected: string, value: unknown): TypeError {
  return withCode(
    new TypeError(`${path} must be ${expected} (received ${describe(value)})`),
    'ERR_INVALID_ARG_TYPE',
  );
}

export function invalidValue(path: string, requirement: string, value: unknown): TypeError {
  return withCode(
    new TypeError(`${path} ${requirement} (received ${describe(value)})`),
    'ERR_INVALID_ARG_VALUE',
  );
}

export function outOfRange(path: string, requirement: string, value: unknown): RangeError {
  return withCode(
    new RangeError(`${path} must be ${requirement} (received ${describe(value)})`),
    'ERR_OUT_OF_RANGE',
  );
}

export function checkInteger(path: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number') throw invalidType(path, 'a number', value);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw outOfRange(path, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

export function checkString(path: string, value: unknown): string {
  if (typeof value !== 'string') throw invalidType(path, 'a string', value);
  return value;
}

export function checkFunction(path: string, value: unknown): void {
  if (typeof value !== 'function') throw invalidType(path, 'a function', value);
}

export function checkObject(path: string, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidType(path, 'an object', value);
  }
  return value as Record<string, unknown>;
}
