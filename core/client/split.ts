/**
 * Splitting of validated telemetry and attributes into messages that stay
 * within ThingsBoard's limits of one message: its payload size and the data
 * points its `telemetryDataPoints` rate limit admits at once. Used by
 * `sendTelemetry(data, { split: true })` and `sendAttributes`.
 *
 * Values keep their groups: a `{ ts, values }` entry becomes several entries
 * with the same `ts`, an object without `ts` several objects (ThingsBoard
 * gives each the time it arrived). The order of keys and entries is kept.
 * Sizes are counted as `JSON.stringify` writes them, which both serializers
 * match byte for byte.
 *
 * @module
 */

import type { KeyValues, Telemetry } from "../payload.ts";
import { utf8Length } from "./limits.ts";

/** What one message may hold. */
export interface SplitLimits {
  /** Most data points (non-null values). */
  dataPoints: number;
  /** Most bytes of the JSON payload. */
  bytes: number;
}

/** One group of values: an entry with `ts`, or an object without. */
interface Group {
  ts: number | undefined;
  pairs: [string, unknown][];
}

/** Bytes of `"key":value`. */
function pairBytes(key: string, value: unknown): number {
  return utf8Length(JSON.stringify(key)) + 1 + utf8Length(JSON.stringify(value));
}

/** Bytes of a group with no pairs: `{}` or `{"ts":…,"values":{}}`. */
function groupBytes(ts: number | undefined): number {
  return ts === undefined ? 2 : `{"ts":${ts},"values":{}}`.length;
}

function isEntry(o: object): o is { ts: number; values: KeyValues } {
  return Object.hasOwn(o, "ts") && Object.hasOwn(o, "values");
}

function groupsOf(data: Telemetry): Group[] {
  const items: object[] = Array.isArray(data) ? data : [data as object];
  return items.map((item) =>
    isEntry(item)
      ? { ts: item.ts, pairs: Object.entries(item.values) }
      : { ts: undefined, pairs: Object.entries(item) }
  );
}

/** A message in the caller's shape: an array stays an array. */
function toTelemetry(groups: Group[], asArray: boolean): Telemetry {
  const out = groups.map(({ ts, pairs }) => {
    const values = Object.fromEntries(pairs);
    return ts === undefined ? values : { ts, values };
  });
  return asArray ? out : out[0]!;
}

/**
 * Packs groups into messages: each message holds at most `limits` (a single
 * value larger than a message is left alone in one, for the caller's size
 * check to refuse). With `asArray`, messages are JSON arrays of groups.
 */
function pack(groups: Group[], limits: SplitLimits, asArray: boolean): Group[][] {
  const messages: Group[][] = [];
  const empty = asArray ? 2 : 0; // `[` `]`
  let message: Group[] = [];
  let points = 0;
  let bytes = empty;
  const flush = () => {
    messages.push(message);
    message = [];
    points = 0;
    bytes = empty;
  };
  for (const { ts, pairs } of groups) {
    let group: Group | undefined;
    const openGroup = () => {
      group = { ts, pairs: [] };
      bytes += groupBytes(ts) + (message.length > 0 ? 1 : 0);
      message.push(group);
    };
    if (pairs.length === 0) {
      // An empty group is sent as it came.
      if (message.length > 0 && bytes + 1 + groupBytes(ts) > limits.bytes) flush();
      openGroup();
    }
    for (const [key, value] of pairs) {
      const p = value === null ? 0 : 1;
      const more = group === undefined
        ? groupBytes(ts) + (message.length > 0 ? 1 : 0) + pairBytes(key, value)
        : pairBytes(key, value) + (group.pairs.length > 0 ? 1 : 0);
      if (
        message.length > 0 && (points + p > limits.dataPoints || bytes + more > limits.bytes)
      ) {
        flush();
        group = undefined;
      }
      if (group === undefined) openGroup();
      bytes += pairBytes(key, value) + (group!.pairs.length > 0 ? 1 : 0);
      group!.pairs.push([key, value]);
      points += p;
    }
  }
  if (message.length > 0) messages.push(message);
  return messages;
}

/**
 * Splits validated telemetry into messages within `limits`.
 *
 * @param data Telemetry that passed `validateTelemetry`.
 * @param limits What one message may hold.
 * @returns The messages, in order: `[data]` itself when it fits.
 */
export function splitTelemetry(data: Telemetry, limits: SplitLimits): Telemetry[] {
  const asArray = Array.isArray(data);
  const messages = pack(groupsOf(data), limits, asArray);
  if (messages.length <= 1) return [data];
  return messages.map((m) => toTelemetry(m, asArray));
}

/**
 * Splits validated client attributes into objects within `limits`.
 *
 * @param data Attributes that passed `validateAttributes`.
 * @param limits What one message may hold.
 * @returns The objects, in order: `[data]` itself when it fits.
 */
export function splitAttributes(data: KeyValues, limits: SplitLimits): KeyValues[] {
  const messages = pack([{ ts: undefined, pairs: Object.entries(data) }], limits, false);
  if (messages.length <= 1) return [data];
  return messages.map((m) => Object.fromEntries(m[0]!.pairs));
}

/**
 * The first key of a part (for an error about a value too large on its own).
 *
 * @param part A part returned by {@linkcode splitTelemetry} or {@linkcode splitAttributes}.
 * @returns Its first key, if it has one.
 */
export function firstKey(part: Telemetry): string | undefined {
  const group = groupsOf(part).find((g) => g.pairs.length > 0);
  return group?.pairs[0]?.[0];
}
