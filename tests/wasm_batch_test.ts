// TelemetryBatch: the columnar path against JSON.stringify of the same
// entries, on both engines, framed as one PUBLISH.

import assert from "node:assert/strict";
import { tsCodec } from "../core/codec/mod.ts";
import { InvalidPayloadError } from "../core/errors.ts";
import { TelemetryBatch } from "../core/telemetry/mod.ts";
import { Prng } from "./_gen_packets.ts";

const encoder = new TextEncoder();
const TOPIC = "v1/devices/me/telemetry";

function randomNumber(rng: Prng): number {
  const bits = new Float64Array(1);
  const words = new Uint32Array(bits.buffer);
  if (rng.bool(0.3)) {
    do {
      words[0] = rng.u32();
      words[1] = rng.u32();
    } while (!Number.isFinite(bits[0]!));
    return bits[0]!;
  }
  return Math.round((rng.float() - 0.5) * 1e6) / 10 ** rng.int(0, 4);
}

Deno.test("TelemetryBatch.encodeJson() equals JSON.stringify(toEntries()) on both engines", () => {
  const rng = new Prng(0xba7c);
  for (let round = 0; round < 60; round++) {
    const keys = ["temperature", "2", 'humi"dity', "ключ", "1", `k${round}`].slice(
      0,
      rng.int(1, 6),
    );
    const batch = new TelemetryBatch(keys, { capacity: 2 });
    const rows = rng.int(0, 150);
    for (let r = 0; r < rows; r++) {
      const values = Array.from(keys, () => randomNumber(rng));
      batch.append(1_700_000_000_000 + r, rng.bool() ? Float64Array.from(values) : values);
    }
    assert.equal(batch.length, rows);
    const expected = encoder.encode(JSON.stringify(batch.toEntries()));
    assert.deepEqual(batch.encodeJson(), expected);
    assert.deepEqual(batch.encodeJson({ engine: "ts" }), expected);
  }
});

Deno.test("TelemetryBatch.encodePublish() frames one PUBLISH equal on both engines", () => {
  const batch = new TelemetryBatch(["a", "b", "c", "d", "e", "f", "g", "h"]);
  const values = new Float64Array(8);
  for (let i = 0; i < 100; i++) {
    for (let k = 0; k < 8; k++) values[k] = i * 8 + k + k / 10;
    batch.append(1_700_000_000_000 + i * 1000, values);
  }
  for (const protocolVersion of [4, 5] as const) {
    const options = { qos: 1 as const, packetId: 42, protocolVersion };
    const wasm = batch.encodePublish(TOPIC, options);
    assert.deepEqual(wasm, batch.encodePublish(TOPIC, { ...options, engine: "ts" }));
    const [packet] = tsCodec.createDecoder({ protocolVersion }).push(wasm);
    assert.ok(packet?.type === "publish");
    assert.equal(packet.packetId, 42);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(packet.payload)), batch.toEntries());
    const out = batch.encodePublishOutbound(TOPIC, options);
    assert.deepEqual(out.bytes, wasm);
    out.release();
  }
  batch.clear();
  assert.deepEqual(batch.encodeJson(), encoder.encode("[]"));
});

Deno.test("TelemetryBatch.append() rejects bad rows before anything is sent", () => {
  const batch = new TelemetryBatch(["t", "h"]);
  assert.throws(() => batch.append(1, [1]), {
    name: "RangeError",
    message: "Cannot append row: expected 2 values, got 1; " +
      "pass one value per key, in the order the keys were given",
  });
  assert.throws(() => batch.append(-1, [1, 2]), { name: "InvalidPayloadError", key: "[0].ts" });
  assert.throws(() => batch.append(1.5, [1, 2]), InvalidPayloadError);
  assert.throws(() => batch.append(1.5, [1, 2]), {
    name: "InvalidPayloadError",
    key: "[0].ts",
    message: 'Cannot send telemetry: "[0].ts" must be a timestamp in milliseconds ' +
      "(a non-negative integer), got 1.5",
  });
  assert.throws(() => batch.append(1, [1, NaN]), { key: "[0].values.h" });
  assert.throws(() => batch.append(1, [Infinity, 1]), { key: "[0].values.t" });
  assert.equal(batch.length, 0);
  assert.throws(() => new TelemetryBatch(["a", "b", "a"]), {
    name: "TypeError",
    message: 'Cannot create TelemetryBatch: key "a" is listed twice; pass distinct keys',
  });
  assert.throws(() => new TelemetryBatch([]), {
    name: "TypeError",
    message: "Cannot create TelemetryBatch: keys must be a non-empty string array",
  });
});

Deno.test("TelemetryBatch.encodePublish() stays exact once the wasm key region is full", () => {
  // 400 batches of 12 distinct 40-character keys need more than the 56 KiB region.
  let last: TelemetryBatch | undefined;
  for (let b = 0; b < 400; b++) {
    const keys = Array.from({ length: 12 }, (_, k) => `${"k".repeat(36)}${b}-${k}`);
    const batch = new TelemetryBatch(keys);
    batch.append(1_700_000_000_000 + b, keys.map((_, k) => b + k / 8));
    const expected = encoder.encode(JSON.stringify(batch.toEntries()));
    assert.deepEqual(batch.encodeJson(), expected);
    last = batch;
  }
  const options = { qos: 1 as const, packetId: 9 };
  assert.deepEqual(
    last!.encodePublish(TOPIC, options),
    last!.encodePublish(TOPIC, { ...options, engine: "ts" }),
  );
});
