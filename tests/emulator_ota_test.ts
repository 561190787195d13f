import assert from "node:assert/strict";
import { startEmulator } from "../emulator/mod.ts";
import { checksum } from "../emulator/ota.ts";
import { connectClient } from "./emulator_helpers.ts";

const device = { name: "d1", accessToken: "T1" };
const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("checksum() writes CRC32 and MurmurHash3 little-endian like Guava", () => {
  assert.equal(checksum("CRC32", enc("123456789")), "2639f4cb");
  // MurmurHash3 x64_128("hello") = cbd8a7b341bd9b02 5b1e906a48ae1d19, each half little-endian.
  assert.equal(checksum("MURMUR3_128", enc("hello")), "029bbd41b3a7d8cb191dae486a901e5b");
  assert.throws(
    () => checksum("CRC16" as never, enc("x")),
    (e: unknown) =>
      e instanceof TypeError && /unsupported checksum algorithm "CRC16"/.test(e.message),
  );
  assert.equal(checksum("MURMUR3_32", enc("hello")), "47fa8b24");
  assert.equal(checksum("MURMUR3_32", new Uint8Array(0)), "00000000");
  assert.equal(
    checksum("SHA256", enc("abc")),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assert.equal(checksum("MD5", enc("abc")), "900150983cd24fb0d6963f7d28e17f72");
});

Deno.test("Emulator.assignOtaPackage() pushes fw_* attributes and serves chunks", async () => {
  await using tb = await startEmulator({ devices: [device] });
  const c = await connectClient(tb.port, { username: "T1", protocolVersion: 5 });
  await c.client.subscribeAsync("v1/devices/me/attributes", { qos: 1 });
  const data = Uint8Array.from({ length: 2500 }, (_, i) => i % 251);
  tb.assignOtaPackage("d1", { title: "app", version: "1.1", data, checksumAlgorithm: "CRC32" });
  assert.equal(
    (await c.message("v1/devices/me/attributes")).payload,
    '{"deleted":["fw_tag","fw_url"]}',
  );
  const attrs = JSON.parse((await c.message("v1/devices/me/attributes")).payload);
  assert.deepEqual(attrs, {
    fw_title: "app",
    fw_version: "1.1",
    fw_size: 2500,
    fw_checksum_algorithm: "CRC32",
    fw_checksum: checksum("CRC32", data),
  });
  assert.equal(tb.getLatestTelemetry("d1").fw_state?.value, "INITIATED");
  assert.equal(tb.getLatestTelemetry("d1").target_fw_version?.value, "1.1");

  // Chunks of 1024 bytes: index-based, the last one short, past the end empty.
  const got: Uint8Array[] = [];
  c.client.on("message", (topic, payload) => {
    if (topic.startsWith("v2/fw/response/")) got.push(new Uint8Array(payload));
  });
  await c.client.publishAsync("v2/fw/request/3/chunk/0", "1024", { qos: 1 });
  assert.equal((await c.message("v2/fw/response/3/chunk/0")).qos, 1); // no subscription needed
  await c.client.publishAsync("v2/fw/request/3/chunk/2", "", { qos: 1 }); // size remembered
  await c.message("v2/fw/response/3/chunk/2");
  await c.client.publishAsync("v2/fw/request/3/chunk/9", "1024", { qos: 1 });
  await c.message("v2/fw/response/3/chunk/9");
  assert.deepEqual(got.map((b) => b.length), [1024, 452, 0]);
  assert.deepEqual(got[1], data.subarray(2048));
  // Size 0 = the whole file.
  await c.client.publishAsync("v2/fw/request/4/chunk/0", "", { qos: 1 });
  await c.message("v2/fw/response/4/chunk/0");
  assert.deepEqual(got[3], data);

  tb.unassignOtaPackage("d1");
  const deleted = JSON.parse((await c.message("v1/devices/me/attributes")).payload).deleted;
  assert.equal(deleted.length, 9);
  assert.ok(deleted.includes("fw_checksum_algorithm"));
  await c.end();
});

Deno.test("startEmulator() answers chunk requests without a package with NOT_FOUND and closes", async () => {
  await using tb = await startEmulator({ devices: [device] });
  const c = await connectClient(tb.port, { username: "T1", protocolVersion: 5 });
  c.client.publish("v2/fw/request/1/chunk/0", "1024", { qos: 1 });
  assert.equal((await c.message("v2/fw/error")).payload, "NOT_FOUND");
  assert.equal((await c.packet("disconnect")).reasonCode, 0x83);
  await c.closed;
  await c.end();

  tb.assignOtaPackage("d1", { title: "a", version: "1", data: new Uint8Array(10) });
  const big = await connectClient(tb.port, { username: "T1", protocolVersion: 4 });
  big.client.publish("v2/fw/request/1/chunk/0", "70000", { qos: 1 });
  assert.equal((await big.message("v2/fw/error")).payload, "PAYLOAD_TOO_LARGE");
  await big.closed;
  await big.end();
});
