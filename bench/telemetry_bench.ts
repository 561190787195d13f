/**
 * Telemetry to finished PUBLISH bytes: the wasm fused path vs the TS engine,
 * the best hand-written pure-TS path, and what MQTT.js does
 * (`mqtt-packet.generate({ payload: JSON.stringify(o) })`), with
 * `Uint8Array.set` of the same bytes as the floor. Values vary per iteration.
 *
 * ```sh
 * deno bench --allow-read --allow-env bench/telemetry_bench.ts
 * ```
 *
 * @module
 */

import mqttPacket from "mqtt-packet";
import {
  encodeTelemetryPublish,
  encodeTelemetryPublishOutbound,
  TelemetryBatch,
} from "../core/telemetry/mod.ts";

const TOPIC = "v1/devices/me/telemetry";
const KEYS = ["temperature", "humidity", "pressure", "voltage", "current", "rssi", "uptime", "co2"];
const VARIANTS = 4096;
const encoder = new TextEncoder();
/** Keeps results alive so the work is not optimized away. */
export let sink: unknown;

function sensorRecord(i: number): Record<string, number> {
  const r: Record<string, number> = {};
  KEYS.forEach((k, j) => {
    r[k] = j % 3 === 0 ? 1000 + i * 7 + j : Math.round((i * 13.37 + j * 3.1) * 100) / 100;
  });
  return r;
}

function fullPrecisionRecord(i: number): Record<string, number> {
  const r: Record<string, number> = {};
  KEYS.forEach((k, j) => {
    r[k] = Math.sin(i * 8 + j + 1) * 10 ** (j - 3);
  });
  return r;
}

/** The best pure-TS path: JSON.stringify + encodeInto a reused buffer + hand-made header. */
const scratch = new Uint8Array(1 << 20);
let cachedTopic = "";
let cachedTopicBytes = new Uint8Array();
function bestTs(topic: string, value: unknown, packetId: number): Uint8Array {
  const json = JSON.stringify(value);
  if (topic !== cachedTopic) {
    cachedTopic = topic;
    cachedTopicBytes = encoder.encode(topic);
  }
  const topicBytes = cachedTopicBytes;
  const head = 2 + topicBytes.length + 2;
  const max = 5 + head;
  const { written } = encoder.encodeInto(json, scratch.subarray(max));
  let rl = head + written;
  const rlBytes = rl < 128 ? 1 : rl < 16_384 ? 2 : rl < 2_097_152 ? 3 : 4;
  let p = max - head - rlBytes - 1;
  const start = p;
  scratch[p++] = 0x32;
  do {
    scratch[p++] = (rl & 0x7f) | (rl > 0x7f ? 0x80 : 0);
    rl >>>= 7;
  } while (rl > 0);
  scratch[p++] = topicBytes.length >> 8;
  scratch[p++] = topicBytes.length & 0xff;
  scratch.set(topicBytes, p);
  p += topicBytes.length;
  scratch[p++] = packetId >> 8;
  scratch[p++] = packetId & 0xff;
  return scratch.subarray(start, max + written);
}

/**
 * `records` is a pool of 4,096 records (32,768 distinct values): V8 caches
 * the strings of recently printed numbers, and real readings rarely repeat,
 * so no value is printed twice in a row of 4,096 iterations.
 */
function recordGroup(group: string, records: Record<string, number>[]): void {
  const packets = records.map((r, i) =>
    encodeTelemetryPublish(TOPIC, r, { qos: 1, packetId: (i & 0xffff) + 1 })
  );
  const target = new Uint8Array(1024);
  let i = 0;
  const next = () => i++ & (VARIANTS - 1);
  Deno.bench({
    group,
    name: "wasm fused, outbound arena",
    baseline: true,
    fn: () => {
      const k = next();
      encodeTelemetryPublishOutbound(TOPIC, records[k]!, { qos: 1, packetId: k + 1 }).release();
    },
  });
  // The same record through the columnar API: keys registered once, values as a Float64Array.
  const row = new TelemetryBatch(KEYS, { capacity: 1 });
  const rows = records.map((r) => Float64Array.from(KEYS, (k) => r[k]!));
  Deno.bench({
    group,
    name: "wasm TelemetryBatch, 1 row (keys registered, Float64Array)",
    fn: () => {
      const k = next();
      row.clear();
      row.append(1_700_000_000_000 + k, rows[k]!);
      row.encodePublishOutbound(TOPIC, { qos: 1, packetId: k + 1 }).release();
    },
  });
  Deno.bench({
    group,
    name: "wasm fused, owned copy",
    fn: () => {
      const k = next();
      sink = encodeTelemetryPublish(TOPIC, records[k]!, { qos: 1, packetId: k + 1 });
    },
  });
  Deno.bench({
    group,
    name: "ts engine (validate + JSON.stringify + codec)",
    fn: () => {
      const k = next();
      sink = encodeTelemetryPublish(TOPIC, records[k]!, { qos: 1, packetId: k + 1, engine: "ts" });
    },
  });
  Deno.bench({
    group,
    name: "best pure TS (JSON.stringify + encodeInto, no validation)",
    fn: () => {
      const k = next();
      sink = bestTs(TOPIC, records[k]!, k + 1);
    },
  });
  Deno.bench({
    group,
    name: "MQTT.js path (mqtt-packet.generate + JSON.stringify)",
    fn: () => {
      const k = next();
      sink = mqttPacket.generate({
        cmd: "publish",
        topic: TOPIC,
        payload: JSON.stringify(records[k]!),
        qos: 1,
        messageId: k + 1,
        retain: false,
        dup: false,
      });
    },
  });
  Deno.bench({
    group,
    name: "Uint8Array.set (floor)",
    fn: () => target.set(packets[next()]!),
  });
}

recordGroup(
  "telemetry record, 8 keys, sensor values → PUBLISH",
  Array.from({ length: VARIANTS }, (_, i) => sensorRecord(i)),
);
recordGroup(
  "telemetry record, 8 keys, full-precision doubles → PUBLISH",
  Array.from({ length: VARIANTS }, (_, i) => fullPrecisionRecord(i)),
);

// A batch of 100 rows of 8 keys → one PUBLISH.
const ROWS = 100;
// 64 batches: 51,200 distinct values, more than V8's number-string cache holds.
const batches = Array.from({ length: 64 }, (_, b) => {
  const batch = new TelemetryBatch(KEYS, { capacity: ROWS });
  const values = new Float64Array(KEYS.length);
  for (let r = 0; r < ROWS; r++) {
    const rec = sensorRecord(b * ROWS + r);
    KEYS.forEach((k, j) => values[j] = rec[k]!);
    batch.append(1_700_000_000_000 + r * 1000, values);
  }
  return batch;
});
const entries = batches.map((b) => b.toEntries());
const batchPackets = batches.map((b) => b.encodePublish(TOPIC, { qos: 1, packetId: 1 }));
const batchTarget = new Uint8Array(64 * 1024);
let n = 0;
const group = "batch of 100 records (8 keys) → one PUBLISH";
Deno.bench({
  group,
  name: "wasm TelemetryBatch, outbound arena",
  baseline: true,
  fn: () => batches[n++ & 63]!.encodePublishOutbound(TOPIC, { qos: 1, packetId: 1 }).release(),
});
Deno.bench({
  group,
  name: "TelemetryBatch, ts engine (string building)",
  fn: () => {
    sink = batches[n++ & 63]!.encodePublish(TOPIC, { qos: 1, packetId: 1, engine: "ts" });
  },
});
Deno.bench({
  group,
  name: "wasm fused over entry objects",
  fn: () => {
    sink = encodeTelemetryPublish(TOPIC, entries[n++ & 63]!, { qos: 1, packetId: 1 });
  },
});
Deno.bench({
  group,
  name: "best pure TS over entry objects (no validation)",
  fn: () => {
    sink = bestTs(TOPIC, entries[n++ & 63]!, 1);
  },
});
Deno.bench({
  group,
  name: "MQTT.js path (mqtt-packet.generate + JSON.stringify)",
  fn: () => {
    sink = mqttPacket.generate({
      cmd: "publish",
      topic: TOPIC,
      payload: JSON.stringify(entries[n++ & 63]!),
      qos: 1,
      messageId: 1,
      retain: false,
      dup: false,
    });
  },
});
Deno.bench({
  group,
  name: "Uint8Array.set (floor)",
  fn: () => batchTarget.set(batchPackets[n++ & 63]!),
});
