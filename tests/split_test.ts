/**
 * `splitTelemetry` / `splitAttributes`: every part within the limits, the
 * values and their timestamps kept, in order, nothing lost or repeated.
 *
 * @module
 */

import assert from "node:assert/strict";
import { firstKey, splitAttributes, splitTelemetry } from "../core/client/split.ts";
import type { KeyValues, Telemetry } from "../core/payload.ts";
import { validateTelemetry } from "../core/payload.ts";

type Triple = [number | undefined, string, unknown];

/** Every value with its timestamp (`undefined`: server time), in order. */
function triples(data: Telemetry): Triple[] {
  const items: object[] = Array.isArray(data) ? data : [data as object];
  return items.flatMap((item) => {
    const o = item as { ts?: number; values?: object };
    const entry = Object.hasOwn(o, "ts") && Object.hasOwn(o, "values");
    const values = entry ? o.values! : item;
    return Object.entries(values).map(([k, v]) => [entry ? o.ts : undefined, k, v] as Triple);
  });
}

function points(data: Telemetry): number {
  return triples(data).filter(([, , v]) => v !== null).length;
}

const bytes = (data: unknown) => new TextEncoder().encode(JSON.stringify(data)).length;

function keys(n: number, prefix = "k"): Record<string, number> {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, i]));
}

Deno.test("splitTelemetry() returns the data itself when it fits", () => {
  const data = { a: 1, b: 2 };
  const parts = splitTelemetry(data, { dataPoints: 2, bytes: bytes(data) });
  assert.equal(parts.length, 1);
  assert.equal(parts[0], data);
});

Deno.test("splitTelemetry() splits an object by data points, keeping key order", () => {
  const parts = splitTelemetry(keys(30), { dataPoints: 20, bytes: 65_536 });
  assert.deepEqual(parts, [keys(20), Object.fromEntries(Object.entries(keys(30)).slice(20))]);
});

Deno.test("splitTelemetry() keeps the ts of an entry in each of its parts", () => {
  const parts = splitTelemetry({ ts: 1700, values: keys(25) }, { dataPoints: 10, bytes: 65_536 });
  assert.equal(parts.length, 3);
  for (const p of parts) assert.equal((p as { ts: number }).ts, 1700);
  assert.deepEqual(parts.flatMap(triples), triples({ ts: 1700, values: keys(25) }));
});

Deno.test("splitTelemetry() does not count nulls as data points", () => {
  const data = { a: 1, gone: null, b: 2, c: 3 };
  const parts = splitTelemetry(data, { dataPoints: 3, bytes: 65_536 });
  assert.deepEqual(parts, [data]);
});

Deno.test("splitTelemetry() packs the groups of an array, an array stays an array", () => {
  const data: Telemetry = [
    { a: 1, b: 2 },
    { ts: 5, values: { c: 3, d: 4, e: 5 } },
    { ts: 6, values: { f: 6 } },
  ];
  const parts = splitTelemetry(data, { dataPoints: 3, bytes: 65_536 });
  assert.deepEqual(parts, [
    [{ a: 1, b: 2 }, { ts: 5, values: { c: 3 } }],
    [{ ts: 5, values: { d: 4, e: 5 } }, { ts: 6, values: { f: 6 } }],
  ]);
});

Deno.test("splitTelemetry() splits by bytes, each part as full as the limit allows", () => {
  const data = Object.fromEntries(
    Array.from({ length: 60 }, (_, i) => [`sensor_${i}`, "é".repeat(i % 7) + "x".repeat(i)]),
  );
  const limit = 300;
  const parts = splitTelemetry(data, { dataPoints: Infinity, bytes: limit });
  assert.ok(parts.length > 1);
  for (const [i, p] of parts.entries()) {
    assert.ok(bytes(p) <= limit, `part ${i} is ${bytes(p)} bytes`);
    const next = parts[i + 1] as KeyValues | undefined;
    if (next) {
      // Greedy: the next value would not have fitted.
      const [k, v] = Object.entries(next)[0]!;
      assert.ok(bytes({ ...p, [k]: v }) > limit - 2);
    }
  }
  assert.deepEqual(parts.flatMap(triples), triples(data));
});

Deno.test("splitTelemetry() leaves a value larger than a message alone in its part", () => {
  const data = { small: 1, huge: "x".repeat(500), after: 2 };
  const parts = splitTelemetry(data, { dataPoints: 100, bytes: 100 });
  assert.deepEqual(parts, [{ small: 1 }, { huge: "x".repeat(500) }, { after: 2 }]);
});

Deno.test("splitTelemetry() random telemetry: within the limits, nothing lost, order kept", () => {
  let seed = 42;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let run = 0; run < 300; run++) {
    const groups = Array.from({ length: 1 + Math.floor(rand() * 4) }, (_, g) => {
      const values = Object.fromEntries(
        Array.from({ length: Math.floor(rand() * 12) }, (_, i) => {
          const r = rand();
          const v = r < 0.1 ? null : r < 0.5 ? Math.round(r * 1e6) / 7 : "ü".repeat(i) + "v";
          return [`g${g}k${i}`, v];
        }),
      );
      return rand() < 0.5 ? values : { ts: 1000 + g, values };
    });
    const data: Telemetry = groups.length === 1 && rand() < 0.5 ? groups[0]! : groups;
    validateTelemetry(data);
    const limits = { dataPoints: 1 + Math.floor(rand() * 6), bytes: 60 + Math.floor(rand() * 200) };
    const parts = splitTelemetry(data, limits);
    assert.deepEqual(parts.flatMap(triples), triples(data), `run ${run}`);
    for (const p of parts) {
      validateTelemetry(p);
      assert.ok(points(p) <= limits.dataPoints, `run ${run}: ${points(p)} points`);
      if (triples(p).length > 1) {
        assert.ok(
          bytes(p) <= limits.bytes,
          `run ${run}: ${bytes(p)} B ${JSON.stringify(p)} ${JSON.stringify(limits)}`,
        );
      }
    }
  }
});

Deno.test("splitAttributes() splits one object into objects", () => {
  const parts = splitAttributes(keys(7), { dataPoints: 3, bytes: 65_536 });
  assert.deepEqual(parts.map((p) => Object.keys(p).length), [3, 3, 1]);
  assert.deepEqual(Object.assign({}, ...parts), keys(7));
});

Deno.test("firstKey() finds the first key of any telemetry shape", () => {
  assert.equal(firstKey({ a: 1 }), "a");
  assert.equal(firstKey({ ts: 1, values: { b: 2 } }), "b");
  assert.equal(firstKey([{ ts: 1, values: {} }, { c: 3 }]), "c");
  assert.equal(firstKey({}), undefined);
});
