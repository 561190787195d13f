/**
 * Imports the package the way JSR and URL users do: from a `file://` URL,
 * in a process started outside the repository with no permissions at all.
 * Proves nothing reads files relative to the module at run time (the wasm
 * bytes are embedded) and no bare specifier needs the repo's deno.json.
 */
import assert from "node:assert/strict";

Deno.test("mod.ts works imported by URL from outside the repository with no permissions", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tbwasm-url-" });
  try {
    const modUrl = new URL("../mod.ts", import.meta.url).href;
    const script = `
      import { decodePacket, encode, TelemetryBatch, tsCodec, wasmCodec } from ${
      JSON.stringify(modUrl)
    };
      const publish = {
        type: "publish", topic: "v1/devices/me/telemetry", qos: 1, retain: false, dup: false, packetId: 7,
        payload: new TextEncoder().encode('{"temperature":21.5}'),
      };
      const a = tsCodec.encode(publish, { protocolVersion: 5 });
      const b = wasmCodec.encode(publish, { protocolVersion: 5 });
      if (a.join() !== b.join()) throw new Error("engines differ");
      const decoder = wasmCodec.createDecoder({ protocolVersion: 5 });
      const [back] = decoder.push(b);
      if (back.type !== "publish" || back.topic !== publish.topic) throw new Error("wasm decode failed");
      const ping = decodePacket(encode({ type: "pingreq" }));
      const batch = new TelemetryBatch(["t"]);
      batch.append(1700000000000, new Float64Array([21.5]));
      const framed = decodePacket(batch.encodePublish("v1/devices/me/telemetry", { qos: 0 }));
      const tail = framed.type === "publish" ? new TextDecoder().decode(framed.payload) : "";
      console.log(JSON.stringify({ ping: ping.type, tail }));
    `;
    await Deno.writeTextFile(`${dir}/main.ts`, script);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-config", "--no-lock", "--quiet", "main.ts"],
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    const result = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.equal(result.ping, "pingreq");
    assert.equal(result.tail, '[{"ts":1700000000000,"values":{"t":21.5}}]');
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
