/**
 * Packing remembered subscriptions into as few SUBSCRIBE packets as the
 * server's Maximum Packet Size allows [MQTT-3.2.2-15]. Private to the client.
 *
 * @module
 */

import type { Subscription } from "../codec/types.ts";

/** Subscriptions split into SUBSCRIBE packets, and those that fit in none. */
export interface SubscribeBatches {
  /** Each within the limit, in the original order. */
  batches: Subscription[][];
  /** Subscriptions whose SUBSCRIBE alone exceeds the limit, with that size in bytes. */
  tooLarge: { subscription: Subscription; size: number }[];
}

/**
 * Splits `subscriptions` greedily, in order, into SUBSCRIBE packets of at
 * most `limit` bytes each.
 *
 * Sizes come from `lengthOf` (the codec's exact `encodedLength` of a
 * SUBSCRIBE without properties): one call for the whole set, and when that
 * is too large, one per subscription plus one more; the remaining length of
 * a SUBSCRIBE is its packet identifier and properties plus the sum of its
 * entries, so the size of every batch follows exactly from those.
 *
 * @param subscriptions Subscriptions to send.
 * @param limit Largest packet the server accepts, in bytes.
 * @param lengthOf Encoded size of a SUBSCRIBE carrying the given subscriptions.
 * @returns The batches and the subscriptions that fit in no packet.
 */
export function batchSubscriptions(
  subscriptions: readonly Subscription[],
  limit: number,
  lengthOf: (subscriptions: Subscription[]) => number,
): SubscribeBatches {
  const out: SubscribeBatches = { batches: [], tooLarge: [] };
  if (subscriptions.length === 0) return out;
  if (lengthOf(subscriptions as Subscription[]) <= limit) {
    out.batches.push([...subscriptions]);
    return out;
  }
  let head = -1; // bytes of packet identifier + properties, learnt from the first subscription
  let batch: Subscription[] = [];
  let remaining = 0;
  for (const s of subscriptions) {
    const size = lengthOf([s]);
    if (size > limit) {
      out.tooLarge.push({ subscription: s, size });
      continue;
    }
    const alone = remainingOf(size);
    if (head < 0) head = 2 * alone - remainingOf(lengthOf([s, s]));
    const next = remaining + alone - head;
    if (batch.length > 0 && 1 + varintLength(next) + next <= limit) {
      batch.push(s);
      remaining = next;
    } else {
      if (batch.length > 0) out.batches.push(batch);
      batch = [s];
      remaining = alone;
    }
  }
  if (batch.length > 0) out.batches.push(batch);
  return out;
}

/** Bytes of the variable byte integer `n`. */
function varintLength(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4;
}

/** Remaining length of a packet of `size` bytes with a one-byte first header byte. */
function remainingOf(size: number): number {
  for (let v = 1; v < 4; v++) {
    if (varintLength(size - 1 - v) === v) return size - 1 - v;
  }
  return size - 5;
}
