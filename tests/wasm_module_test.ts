// The embedded module: size budget, no imports, fixed memory, the
// committed outputs in sync with each other, and traps turned into typed errors.

import assert from "node:assert/strict";
import { WASM_BASE64, WASM_SIZE } from "../wasm/_module.ts";
import {
  base64BytesJs,
  createInstance,
  sharedInstance,
  type WasmExports,
  wasmModule,
} from "../wasm/_instance.ts";
import { MqttDecodeError, tsCodec } from "../core/codec/mod.ts";
import { wasmCodec } from "../wasm/mod.ts";
import { encodeTelemetryJson, TelemetryBatch } from "../core/telemetry/mod.ts";

Deno.test("wasm module is at most 16 KiB and has no imports", () => {
  assert.ok(WASM_SIZE <= 16 * 1024, `${WASM_SIZE} bytes`);
  assert.deepEqual(WebAssembly.Module.imports(wasmModule()), []);
});

Deno.test("wasm/_module.ts embeds exactly wasm/build/release.wasm", async () => {
  const file = await Deno.readFile(new URL("../wasm/build/release.wasm", import.meta.url));
  const embedded = Uint8Array.from(atob(WASM_BASE64), (c) => c.charCodeAt(0));
  assert.deepEqual(embedded, file);
  // The fallback decoder (runtimes without Uint8Array.fromBase64) gives the same bytes.
  assert.deepEqual(base64BytesJs(WASM_BASE64), file);
  for (const text of ["", "a", "ab", "abc", "abcd", "\u00ff\u0000\u0080"]) {
    const b64 = btoa(text);
    assert.deepEqual(base64BytesJs(b64), Uint8Array.from(text, (c) => c.charCodeAt(0)), b64);
  }
});

Deno.test("createInstance() memory is fixed: it cannot grow, so views never detach", () => {
  const instance = createInstance(false);
  const memory = instance.exports.memory;
  const before = memory.buffer.byteLength;
  assert.throws(() => memory.grow(1), RangeError);
  assert.equal(memory.buffer.byteLength, before);
  assert.equal(instance.u8.buffer, memory.buffer);
});

Deno.test("a wasm trap never escapes as WebAssembly.RuntimeError", () => {
  const w = sharedInstance();
  const original = w.exports;
  const trap = () => {
    throw new WebAssembly.RuntimeError("unreachable");
  };
  w.exports = {
    ...original,
    decodeNext: trap,
    encodePublishHead: trap,
    framePublishBefore: trap,
    tapeToJson: trap,
    batchToJson: trap,
  } as WasmExports;
  try {
    const packet = {
      type: "publish",
      topic: "t",
      payload: new Uint8Array([1, 2]),
      qos: 0,
      retain: false,
      dup: false,
    } as const;
    // Encoders fall back to the TS path: same bytes.
    assert.deepEqual(wasmCodec.encode(packet), tsCodec.encode(packet));
    const out = wasmCodec.encodeOutbound(packet);
    assert.deepEqual(out.bytes, tsCodec.encode(packet));
    out.release();
    assert.deepEqual(encodeTelemetryJson({ t: 1.5 }), new TextEncoder().encode('{"t":1.5}'));
    const batch = new TelemetryBatch(["t"]);
    batch.append(1, [2]);
    assert.deepEqual(batch.encodeJson(), new TextEncoder().encode('[{"ts":1,"values":{"t":2}}]'));
    // The decoder reports a typed error.
    const decoder = wasmCodec.createDecoder();
    assert.throws(() => decoder.push(new Uint8Array([0xd0, 0x00])), MqttDecodeError);
    assert.equal(decoder.failed, true);
  } finally {
    w.exports = original;
  }
});
