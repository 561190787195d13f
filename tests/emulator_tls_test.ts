import assert from "node:assert/strict";
import { startEmulator } from "../emulator/mod.ts";
import mqtt from "mqtt";

/** A throwaway self-signed certificate for 127.0.0.1 (openssl). */
async function selfSigned(): Promise<{ cert: string; key: string }> {
  const dir = await Deno.makeTempDir();
  try {
    const { success, stderr } = await new Deno.Command("openssl", {
      args: [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        `${dir}/key.pem`,
        "-out",
        `${dir}/cert.pem`,
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.ok(success, new TextDecoder().decode(stderr));
    return {
      cert: await Deno.readTextFile(`${dir}/cert.pem`),
      key: await Deno.readTextFile(`${dir}/key.pem`),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("startEmulator() with tls also listens with TLS", async () => {
  const { cert, key } = await selfSigned();
  await using tb = await startEmulator({
    tls: { cert, key },
    devices: [{ name: "d1", accessToken: "T1" }],
  });
  assert.ok(tb.tlsPort !== undefined && tb.tlsPort !== tb.port);
  const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${tb.tlsPort}`, {
    username: "T1",
    ca: cert,
    reconnectPeriod: 0,
    keepalive: 0,
    protocolVersion: 5,
  });
  await client.publishAsync("v1/devices/me/telemetry", '{"secure":true}', { qos: 1 });
  assert.equal(tb.getLatestTelemetry("d1").secure?.value, true);
  assert.equal(tb.sessions.find((s) => s.device === "d1")?.tls, true);
  await client.endAsync();
});
