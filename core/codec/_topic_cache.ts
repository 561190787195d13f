/**
 * A small cache of recently encoded topic names and their UTF-8 bytes.
 *
 * A device publishes to a handful of topics over and over, so a PUBLISH
 * whose topic is cached skips validation and UTF-8 encoding: a string
 * compare (usually by identity) and one `Uint8Array.set` instead. Only valid
 * topic names are cached, so an invalid one always reaches validation and
 * fails as before. Memory is bounded: {@linkcode TOPIC_CACHE_SLOTS} strings
 * of at most {@linkcode TOPIC_CACHE_MAX_BYTES} UTF-8 bytes and one fixed byte
 * array. Replacement is CLOCK (second chance): a topic used since the hand
 * last passed survives, so a stream of one-off topics (RPC responses) does
 * not evict the hot ones.
 *
 * @module
 */

import { writeUtf8 } from "./_utf8.ts";

/** Number of cached topics (a power of two). */
export const TOPIC_CACHE_SLOTS = 8;
/** Longest cached topic in UTF-8 bytes; longer ones are encoded each time. */
export const TOPIC_CACHE_MAX_BYTES = 128;

const SLOT_BYTES = TOPIC_CACHE_MAX_BYTES + 2;
const names: (string | null)[] = new Array<string | null>(TOPIC_CACHE_SLOTS).fill(null);
const lengths = new Int32Array(TOPIC_CACHE_SLOTS);
const used = new Uint8Array(TOPIC_CACHE_SLOTS);
const bytes = new Uint8Array(TOPIC_CACHE_SLOTS * SLOT_BYTES);
/** Per slot, a view of its length-prefixed topic in `bytes` (set copies it fastest). */
const views: Uint8Array[] = Array.from({ length: TOPIC_CACHE_SLOTS }, () => bytes.subarray(0, 0));
/** Slot of the last lookup hit or insert, checked first. */
let last = 0;
let hand = 0;

/** Cache slot holding `topic`, or -1. */
export function findTopic(topic: string): number {
  if (names[last] === topic) {
    used[last] = 1;
    return last;
  }
  for (let k = 0; k < TOPIC_CACHE_SLOTS; k++) {
    if (names[k] === topic) {
      used[k] = 1;
      return last = k;
    }
  }
  return -1;
}

/**
 * Caches valid topic name `topic` of `byteLength` UTF-8 bytes (1..65535);
 * returns its slot, or -1 when it is too long to cache.
 */
export function rememberTopic(topic: string, byteLength: number): number {
  if (byteLength > TOPIC_CACHE_MAX_BYTES) return -1;
  let k = hand;
  while (used[k] === 1) {
    used[k] = 0;
    k = (k + 1) & (TOPIC_CACHE_SLOTS - 1);
  }
  hand = (k + 1) & (TOPIC_CACHE_SLOTS - 1);
  const from = k * SLOT_BYTES;
  bytes[from] = byteLength >>> 8;
  bytes[from + 1] = byteLength & 0xff;
  writeUtf8(bytes, from + 2, topic);
  views[k] = bytes.subarray(from, from + 2 + byteLength);
  names[k] = topic;
  lengths[k] = byteLength;
  return last = k;
}

/** UTF-8 byte length of the topic in `slot` (from {@linkcode findTopic}). */
export function topicLengthAt(slot: number): number {
  return lengths[slot]!;
}

/**
 * Writes the topic in `slot` with its 2-byte length prefix at `pos` when the
 * slot still holds `topic`; returns the new position, or -1 otherwise.
 */
export function writeCachedTopic(
  buf: Uint8Array,
  pos: number,
  slot: number,
  topic: string,
): number {
  if (slot < 0 || names[slot] !== topic) return -1;
  const view = views[slot]!;
  buf.set(view, pos);
  return pos + view.length;
}

/** Tells whether `topic` is cached (for tests). */
export function isTopicCached(topic: string): boolean {
  return names.includes(topic);
}
