/**
 * Internal. Decodes the records that NativeTable#snapshot and #readRow copy out of shared
 * memory (native/core/table.h `SnapshotRecord`, 80 bytes, then name, category and data).
 * Strings are decoded here, in JS, because creating them through N-API one property at a
 * time costs several times more.
 */
import { LIMITS } from './limits.js';

/** Internal. One row as copied out of shared memory, before it becomes public objects. */
export interface RawRow {
  slot: number;
  generation: number;
  /** Native status number (1..6). */
  status: number;
  name: string;
  category: string;
  /** Serialized JSON data ('' when none). */
  data: string;
  progress: number | null;
  pid: number;
  startedAtMs: number;
  modifiedAtMs: number;
  runningAtMs: number;
  inactivityTimeoutMs: number;
  leaseMs: number;
  categoryIndex: number;
  /** The slot is still claimed by the task (it has not reached a final status). */
  live: boolean;
  /** Ended by another process after its owner died. */
  reclaimed: boolean;
}

const RECORD = LIMITS.snapshotRecordBytes;
const FLAG_RECLAIMED = 2;

/** Internal. Decodes the record at `offset`; returns it and the offset of the next one. */
export function decodeRecord(
  bytes: Buffer,
  view: DataView,
  offset: number,
): { row: RawRow; next: number } {
  const nameLen = bytes[offset + 73] as number;
  const categoryLen = bytes[offset + 74] as number;
  const dataLen = view.getUint32(offset + 68, true);
  const progress = view.getFloat64(offset + 32, true);
  let p = offset + RECORD;
  const name = bytes.toString('utf8', p, p + nameLen);
  p += nameLen;
  const category = bytes.toString('utf8', p, p + categoryLen);
  p += categoryLen;
  const data = dataLen === 0 ? '' : bytes.toString('utf8', p, p + dataLen);
  p += dataLen;
  const row: RawRow = {
    slot: view.getUint32(offset + 56, true),
    generation: view.getFloat64(offset, true),
    status: bytes[offset + 72] as number,
    name,
    category,
    data,
    progress: Number.isNaN(progress) ? null : progress,
    pid: view.getUint32(offset + 60, true),
    startedAtMs: view.getFloat64(offset + 8, true),
    modifiedAtMs: view.getFloat64(offset + 16, true),
    runningAtMs: view.getFloat64(offset + 24, true),
    inactivityTimeoutMs: view.getFloat64(offset + 40, true),
    leaseMs: view.getFloat64(offset + 48, true),
    categoryIndex: view.getUint32(offset + 64, true),
    live: view.getUint32(offset + 76, true) !== 0,
    reclaimed: ((bytes[offset + 75] as number) & FLAG_RECLAIMED) !== 0,
  };
  return { row, next: offset + RECORD + Math.ceil((nameLen + categoryLen + dataLen) / 8) * 8 };
}
