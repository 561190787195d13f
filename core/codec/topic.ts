/**
 * Topic names, topic filters and matching. [MQTT-4.7]
 *
 * @module
 */

import { LONE_SURROGATE, NULL_CHARACTER, utf8Length } from "./_utf8.ts";

const SLASH = 0x2f;
const PLUS = 0x2b;
const HASH = 0x23;
const DOLLAR = 0x24;
const SHARE_PREFIX = "$share/";

/** Returned by {@linkcode topicNameLength} for a name containing `+` or `#`. */
export const WILDCARD_IN_NAME = -3;

/**
 * UTF-8 byte length of topic name `s` in one char loop, or a negative code:
 * -1 lone surrogate, -2 U+0000, -3 wildcard. An empty name yields 0.
 */
export function topicNameLength(s: string): number {
  const len = s.length;
  let n = 0;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      if (c === PLUS || c === HASH) return WILDCARD_IN_NAME; // [MQTT-3.3.2-2] [MQTT-4.7.1-1]
      if (c === 0) return NULL_CHARACTER; // [MQTT-4.7.3-2]
      n++;
    } else if (c < 0x800) {
      n += 2;
    } else if (c < 0xd800 || c > 0xdfff) {
      n += 3;
    } else {
      const d = s.charCodeAt(i + 1); // NaN past the end
      if (c > 0xdbff || !(d >= 0xdc00 && d <= 0xdfff)) return LONE_SURROGATE; // [MQTT-1.5.4-1]
      i++;
      n += 4;
    }
  }
  return n;
}

/**
 * Tells whether `s` is a valid topic name: 1..65535 UTF-8 bytes
 * [MQTT-4.7.3-1] [MQTT-4.7.3-3], no wildcards [MQTT-4.7.1-1], no U+0000
 * [MQTT-4.7.3-2] and no lone surrogates [MQTT-1.5.4-1].
 *
 * @param s The candidate topic name.
 * @returns `true` when `s` may be used in a PUBLISH.
 *
 * @example
 * ```ts
 * import { isValidTopicName } from "@tbwasm/sdk/codec";
 * isValidTopicName("v1/devices/me/telemetry"); // true
 * isValidTopicName("v1/devices/+/telemetry"); // false
 * ```
 */
export function isValidTopicName(s: string): boolean {
  const n = topicNameLength(s);
  return n > 0 && n <= 65_535;
}

/**
 * Tells whether `s` is a valid topic filter: 1..65535 UTF-8 bytes, `#` only
 * as the last level [MQTT-4.7.1-2], `+` only as a whole level
 * [MQTT-4.7.1-3], no U+0000 and no lone surrogates. MQTT 5 shared
 * subscriptions (`$share/{name}/{filter}`) are checked by the SUBSCRIBE
 * codec, see {@linkcode isValidSharedFilter}.
 *
 * @param s The candidate topic filter.
 * @returns `true` when `s` may be used in a SUBSCRIBE or UNSUBSCRIBE.
 *
 * @example
 * ```ts
 * import { isValidTopicFilter } from "@tbwasm/sdk/codec";
 * isValidTopicFilter("v1/devices/me/rpc/request/+"); // true
 * isValidTopicFilter("sport/tennis#"); // false
 * ```
 */
export function isValidTopicFilter(s: string): boolean {
  const len = s.length;
  if (len === 0) return false; // [MQTT-4.7.3-1]
  const n = utf8Length(s);
  if (n < 0 || n > 65_535) return false;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c === HASH) {
      // [MQTT-4.7.1-2] "#" is alone in the last level.
      if (i !== len - 1 || (i > 0 && s.charCodeAt(i - 1) !== SLASH)) return false;
    } else if (c === PLUS) {
      // [MQTT-4.7.1-3] "+" occupies an entire level.
      if (i > 0 && s.charCodeAt(i - 1) !== SLASH) return false;
      if (i < len - 1 && s.charCodeAt(i + 1) !== SLASH) return false;
    }
  }
  return true;
}

/**
 * Tells whether a filter starting with `$share/` is a well-formed MQTT 5
 * shared subscription: a non-empty share name without `/`, `+` or `#`,
 * followed by `/` and a non-empty topic filter [MQTT-4.8.2-1]
 * [MQTT-4.8.2-2]. Filters without the prefix return `true`.
 */
export function isValidSharedFilter(s: string): boolean {
  if (!s.startsWith(SHARE_PREFIX)) return true;
  const slash = s.indexOf("/", SHARE_PREFIX.length);
  if (slash <= SHARE_PREFIX.length || slash === s.length - 1) return false;
  const name = s.slice(SHARE_PREFIX.length, slash);
  return !name.includes("+") && !name.includes("#");
}

/** Tells whether `s` is a shared subscription filter (`$share/...`). */
export function isSharedFilter(s: string): boolean {
  return s.startsWith(SHARE_PREFIX);
}

/**
 * Tells whether topic name `topicName` matches topic filter `filter`
 * (both assumed valid). `#` also matches the parent level ("a/#" matches
 * "a"); filters starting with a wildcard do not match names starting with
 * `$` [MQTT-4.7.2-1]; `$share/{name}/` prefixes are ignored.
 *
 * @param filter A valid topic filter.
 * @param topicName A valid topic name.
 * @returns `true` when a subscription to `filter` receives `topicName`.
 *
 * @example
 * ```ts
 * import { topicMatches } from "@tbwasm/sdk/codec";
 * topicMatches("v1/devices/me/rpc/request/+", "v1/devices/me/rpc/request/42"); // true
 * topicMatches("sport/#", "sport"); // true
 * topicMatches("#", "$SYS/uptime"); // false
 * ```
 */
export function topicMatches(filter: string, topicName: string): boolean {
  if (filter.startsWith(SHARE_PREFIX)) {
    const slash = filter.indexOf("/", SHARE_PREFIX.length);
    if (slash < 0) return false;
    filter = filter.slice(slash + 1);
  }
  const fl = filter.length;
  const tl = topicName.length;
  const f0 = filter.charCodeAt(0);
  if (topicName.charCodeAt(0) === DOLLAR && (f0 === PLUS || f0 === HASH)) return false;
  let i = 0;
  let j = 0;
  while (true) {
    if (i === fl) return j === tl;
    const c = filter.charCodeAt(i);
    if (c === HASH) return true;
    if (c === PLUS) {
      while (j < tl && topicName.charCodeAt(j) !== SLASH) j++;
      i++;
    } else if (j < tl && topicName.charCodeAt(j) === c) {
      i++;
      j++;
    } else {
      // "a/#" also matches "a".
      return j === tl && c === SLASH && i + 2 === fl && filter.charCodeAt(i + 1) === HASH;
    }
  }
}
