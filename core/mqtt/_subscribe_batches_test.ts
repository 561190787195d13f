import assert from "node:assert/strict";
import { encodedLength } from "../codec/mod.ts";
import type { Subscription } from "../codec/types.ts";
import { batchSubscriptions } from "./_subscribe_batches.ts";

function sizer(protocolVersion: 4 | 5) {
  return (subscriptions: Subscription[]) =>
    encodedLength({ type: "subscribe", packetId: 1, subscriptions }, { protocolVersion });
}

Deno.test("batchSubscriptions() keeps a set that fits in one packet", () => {
  const subs: Subscription[] = [{ topicFilter: "a", qos: 1 }, { topicFilter: "b/#", qos: 0 }];
  const size = sizer(5)(subs);
  const out = batchSubscriptions(subs, size, sizer(5));
  assert.deepEqual(out, { batches: [subs], tooLarge: [] });
  assert.deepEqual(batchSubscriptions([], 10, sizer(5)), { batches: [], tooLarge: [] });
});

Deno.test("batchSubscriptions() fills each packet exactly up to the limit, across remaining-length sizes", () => {
  // Filters of 1..300 bytes (some multi-byte UTF-8), so that batches cross the 127/128 and
  // 16383/16384 remaining-length boundaries; checked against the codec for every limit.
  let seed = 7;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  for (const version of [4, 5] as const) {
    const lengthOf = sizer(version);
    for (let round = 0; round < 40; round++) {
      const subs: Subscription[] = Array.from({ length: 1 + rand(120) }, (_, i) => ({
        topicFilter: `${i}/${"é".repeat(rand(3))}${"x".repeat(rand(300))}`,
        qos: rand(2) as 0 | 1,
      }));
      const limit = 10 + rand(round < 20 ? 400 : 20_000);
      const { batches, tooLarge } = batchSubscriptions(subs, limit, lengthOf);
      assert.deepEqual(
        [...batches.flat(), ...tooLarge.map((t) => t.subscription)].sort((a, b) =>
          subs.indexOf(a) - subs.indexOf(b)
        ),
        subs,
      );
      for (const t of tooLarge) {
        assert.equal(t.size, lengthOf([t.subscription]));
        assert.ok(t.size > limit);
      }
      const fitting = subs.filter((s) => !tooLarge.some((t) => t.subscription === s));
      assert.deepEqual(batches.flat(), fitting); // in order
      for (const [i, batch] of batches.entries()) {
        assert.ok(lengthOf(batch) <= limit, `batch ${i}: ${lengthOf(batch)} > ${limit}`);
        const next = batches[i + 1]?.[0];
        if (next) assert.ok(lengthOf([...batch, next]) > limit, "greedy: the next one did not fit");
      }
    }
  }
});

Deno.test("batchSubscriptions() reports subscriptions that fit in no packet", () => {
  const subs: Subscription[] = [
    { topicFilter: "a", qos: 1 },
    { topicFilter: "long/x", qos: 1 },
    { topicFilter: "b", qos: 1 },
  ];
  const out = batchSubscriptions(subs, 13, sizer(5));
  assert.deepEqual(out.batches, [[subs[0], subs[2]]]);
  assert.deepEqual(out.tooLarge, [{ subscription: subs[1], size: 14 }]);
});
