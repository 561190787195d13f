import assert from "node:assert/strict";
import { MqttDecoder } from "./decoder.ts";
import { MqttDecodeError } from "./errors.ts";
import { encode, encodedLength, encodeInto } from "./encode.ts";
import type { PublishPacket } from "./types.ts";
import { hex, toHex, utf8 } from "./_test_vectors.ts";
import { writeUtf8 } from "./_utf8.ts";
import { isTopicCached, TOPIC_CACHE_MAX_BYTES, TOPIC_CACHE_SLOTS } from "./_topic_cache.ts";

function publish(topic: string, payload = utf8("x")): PublishPacket {
  return { type: "publish", topic, payload, qos: 0, retain: false, dup: false };
}

/** The PUBLISH bytes built by hand, independently of the encoder. */
function expected(topic: string, payload: Uint8Array): string {
  const t = new Uint8Array(topic.length * 3);
  const n = writeUtf8(t, 0, topic);
  const rem = 2 + n + payload.length;
  const head = rem < 128 ? [0x30, rem] : [0x30, (rem & 0x7f) | 0x80, rem >> 7];
  return toHex(new Uint8Array([...head, n >> 8, n & 0xff, ...t.subarray(0, n), ...payload]));
}

Deno.test("encodeInto() behaviour: a repeated topic encodes the same bytes every time", () => {
  const buf = new Uint8Array(256).fill(0xee);
  for (const topic of ["v1/devices/me/telemetry", "é😀/x", `${"v1/devices"}/me/telemetry`]) {
    for (let i = 0; i < 3; i++) {
      const payload = utf8(`{"i":${i}}`);
      const n = encodeInto(publish(topic, payload), buf, 5, { protocolVersion: 4 });
      assert.equal(toHex(buf.subarray(5, 5 + n)), expected(topic, payload));
      assert.equal(toHex(encode(publish(topic, payload))), expected(topic, payload));
    }
  }
});

Deno.test("encode() behaviour: more distinct topics than cache slots all encode correctly", () => {
  const topics = Array.from(
    { length: TOPIC_CACHE_SLOTS * 3 },
    (_, i) => `v1/devices/me/rpc/response/${i}`,
  );
  for (let round = 0; round < 3; round++) {
    for (const topic of topics) {
      assert.equal(toHex(encode(publish(topic))), expected(topic, utf8("x")));
    }
  }
});

Deno.test("encode() behaviour: a hot topic stays cached among one-off topics", () => {
  const hot = "v1/devices/me/attributes";
  encode(publish(hot));
  encode(publish(hot));
  assert.ok(isTopicCached(hot));
  // RPC responses (a new topic each) between uses of the hot topic.
  for (let i = 0; i < TOPIC_CACHE_SLOTS * 4; i++) {
    for (let k = 0; k < TOPIC_CACHE_SLOTS / 2; k++) {
      encode(publish(`v1/devices/me/rpc/response/${1000 + i * 10 + k}`));
    }
    assert.ok(isTopicCached(hot));
    encode(publish(hot));
  }
});

Deno.test("encode() behaviour: only topics up to the cache limit are cached", () => {
  const fits = "a".repeat(TOPIC_CACHE_MAX_BYTES);
  const long = "b".repeat(TOPIC_CACHE_MAX_BYTES + 1);
  for (const topic of [fits, long, fits, long]) {
    assert.equal(toHex(encode(publish(topic))), expected(topic, utf8("x")));
  }
  assert.ok(isTopicCached(fits));
  assert.ok(!isTopicCached(long));
});

Deno.test("encodeInto() behaviour: invalid topics are never cached and always throw", () => {
  const buf = new Uint8Array(64);
  for (let i = 0; i < 3; i++) {
    assert.throws(() => encodeInto(publish("a/+"), buf, 0), {
      name: "TypeError",
      message: "Cannot encode PUBLISH: topic must not contain wildcards",
    });
    assert.throws(() => encodedLength(publish("")), {
      name: "RangeError",
      message: "Cannot encode PUBLISH: topic must not be empty",
    });
    assert.throws(() => encode(publish("a\u0000")), {
      name: "TypeError",
      message: "Cannot encode PUBLISH: topic must be well-formed UTF-16 without U+0000",
    });
    assert.throws(() => encode(publish("\ud800")), {
      name: "TypeError",
      message: "Cannot encode PUBLISH: topic must be well-formed UTF-16 without U+0000",
    });
  }
  assert.ok(!isTopicCached("a/+"));
  assert.ok(!isTopicCached(""));
});

Deno.test("encodeInto() behaviour: a cached topic does not skip the other checks", () => {
  const topic = "v1/devices/me/telemetry";
  encode(publish(topic));
  assert.ok(isTopicCached(topic));
  assert.throws(() => encodeInto(publish(topic, utf8("payload")), new Uint8Array(10), 0), {
    name: "RangeError",
    message:
      "Cannot encode PUBLISH: needs 34 bytes, 10 available; size the buffer with encodedLength()",
  });
  assert.throws(() => encode({ ...publish(topic), qos: 1 }), {
    name: "RangeError",
    message: "Cannot encode PUBLISH: packetId must be 1..65535 for QoS 1",
  });
  assert.throws(() => encode({ ...publish(topic), payload: "x" as unknown as Uint8Array }), {
    name: "TypeError",
    message: "Cannot encode PUBLISH: payload must be a Uint8Array",
  });
});

Deno.test("MqttDecoder.push() behaviour: a repeated wildcard topic fails every time", () => {
  // "a/+" with payload "x": the topic is remembered before the wildcard check.
  const bytes = hex("30 06 00 03 61 2f 2b 78");
  const decoder = new MqttDecoder();
  for (let i = 0; i < 2; i++) {
    assert.throws(() => decoder.push(bytes), (e: unknown) => {
      assert.ok(e instanceof MqttDecodeError);
      assert.equal(e.code, "INVALID_TOPIC");
      assert.equal(e.offset, 2);
      return true;
    });
    decoder.reset();
  }
  const ok = decoder.push(hex("30 06 00 03 61 2f 62 78"));
  assert.equal((ok[0] as PublishPacket).topic, "a/b");
});
