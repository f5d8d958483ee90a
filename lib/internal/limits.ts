/**
 * Internal. Limits shared with native/core/layout.h. lib/internal/native.ts checks on load
 * that the addon reports the same values, so the two cannot drift apart silently.
 */
export const LIMITS = Object.freeze({
  layoutVersion: 1,
  maxTasks: 1000000,
  minDataSize: 64,
  maxDataSize: 1048576,
  maxCategories: 65535,
  maxBuckets: 32,
  maxNameBytes: 255,
  snapshotRecordBytes: 80,
  statsPerCategory: 10,
  statsTrailer: 4,
});
