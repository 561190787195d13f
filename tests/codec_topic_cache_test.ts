// The TS decoder keeps the last few topic names (with their bytes) to skip UTF-8 decoding of
// repeats: whatever the order, length or reuse of the input buffer, every decoded topic must be
// exactly the one on the wire.
import assert from "node:assert/strict";
import { decodePacket, encode, MqttDecodeError, MqttDecoder } from "../core/codec/mod.ts";
import type { Packet, PublishPacket } from "../core/codec/types.ts";

const enc = new TextEncoder();
const publish = (topic: string, i = 0): PublishPacket => ({
  type: "publish",
  topic,
  payload: enc.encode(String(i)),
  qos: 0,
  retain: false,
  dup: false,
});
const topics = (packets: Packet[]) => packets.map((p) => (p as PublishPacket).topic);

Deno.test("MqttDecoder.push() decodes alternating topics exactly", () => {
  const d = new MqttDecoder({ protocolVersion: 4 });
  const rpc = (i: number) => `v1/devices/me/rpc/request/${i}`;
  const expected: string[] = [];
  for (let i = 0; i < 200; i++) {
    // attribute updates between RPC requests (unique ids), and a third steady topic now and then
    const t = i % 2 === 0
      ? "v1/devices/me/attributes"
      : i % 7 === 0
      ? "v1/devices/me/attributes/response/1"
      : rpc(i);
    expected.push(t);
    assert.equal((d.push(encode(publish(t, i)))[0] as PublishPacket).topic, t);
  }
  // The same sequence in one chunk.
  const all = expected.map((t, i) => encode(publish(t, i)));
  const chunk = new Uint8Array(all.reduce((n, b) => n + b.length, 0));
  all.reduce((at, b) => (chunk.set(b, at), at + b.length), 0);
  assert.deepEqual(topics(d.push(chunk)), expected);
});

Deno.test("MqttDecoder.push() tells apart cached topics of the same length by every byte", () => {
  // More same-length topics than cache slots, each differing from the others in one byte (first,
  // middle or last), or in UTF-8 bytes with the same byte length: a cache that compared lengths,
  // hashes or a prefix would return a wrong string.
  const base = "a/bcdefgh/ij";
  const variants = [base, "b" + base.slice(1), base.slice(0, 6) + "X" + base.slice(7)];
  variants.push(base.slice(0, -1) + "k", base.slice(0, -2) + "é", base.slice(0, -2) + "ê");
  for (const v of variants) assert.equal(enc.encode(v).length, 12);
  const d = new MqttDecoder({ protocolVersion: 5 });
  const order = [0, 1, 0, 2, 3, 0, 4, 5, 4, 5, 1, 2, 3, 0, 5, 5, 3, 1, 0, 2, 4];
  for (const [i, k] of order.entries()) {
    const t = variants[k]!;
    assert.equal(
      (d.push(encode(publish(t, i), { protocolVersion: 5 }))[0] as PublishPacket).topic,
      t,
    );
    assert.equal((decodePacket(encode(publish(t, i))) as PublishPacket).topic, t);
  }
});

Deno.test("MqttDecoder.push() decodes a topic right when the caller reuses its read buffer", () => {
  // A transport reads every chunk into the same buffer: the cache must keep its own copy of the
  // bytes, not a view that the next read overwrites.
  const d = new MqttDecoder();
  const buf = new Uint8Array(64);
  const seq = ["t/aa", "t/bb", "t/aa", "t/cc", "t/bb", "t/dd", "t/ee", "t/aa", "t/ff", "t/bb"];
  for (const [i, t] of seq.entries()) {
    const bytes = encode(publish(t, i));
    buf.set(bytes);
    assert.equal((d.push(buf.subarray(0, bytes.length))[0] as PublishPacket).topic, t);
  }
});

Deno.test("MqttDecoder.push() still refuses a wildcard topic after the same bytes were cached", () => {
  // A topic name with a wildcard is refused every time, from the cache or not [MQTT-3.3.2-2];
  // a valid topic decoded in between does not make it acceptable.
  const bad = new Uint8Array([0x30, 0x06, 0x00, 0x03, 0x61, 0x2f, 0x2b, 0x78]); // "a/+", "x"
  const d = new MqttDecoder();
  for (let i = 0; i < 3; i++) {
    assert.throws(
      () => d.push(bad),
      (e: unknown) => e instanceof MqttDecodeError && e.code === "INVALID_TOPIC",
    );
    d.reset();
    assert.equal((d.push(encode(publish("a/b")))[0] as PublishPacket).topic, "a/b");
    assert.equal((d.push(encode(publish("c/d/e")))[0] as PublishPacket).topic, "c/d/e");
  }
});

Deno.test("MqttDecoder.push() decodes long topics (not cached) between cached ones", () => {
  const d = new MqttDecoder();
  const long = (c: string) => c.repeat(300);
  const seq = ["a", long("x"), "a", long("y"), "b", long("x"), "a", "b", long("y")];
  for (const [i, t] of seq.entries()) {
    assert.equal((d.push(encode(publish(t, i)))[0] as PublishPacket).topic, t);
  }
});
