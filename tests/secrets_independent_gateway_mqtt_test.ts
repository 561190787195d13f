/**
 * No secret is observable from the gateway client (bad token, a live session
 * with claims, server-side kicks and reconnects) or from the generic
 * `MqttClient` with a user name and a string or byte password (refused by
 * Mosquitto, accepted, reconnected after a broker restart).
 *
 * @module
 */

import assert from "node:assert/strict";
import { startEmulator } from "../emulator/mod.ts";
import { ConnectionRefusedError } from "../mod.ts";
import { tsCodec } from "../core/codec/mod.ts";
import { wasmCodec } from "../wasm/mod.ts";
import { mosquittoPath, startMosquitto } from "./_mosquitto.ts";
import {
  failedConnect,
  gatewayClient,
  MATRIX,
  mqttClient,
  Recorder,
  SECRET,
} from "./_secrets_independent.ts";
import { until } from "./_secrets_independent_servers.ts";

const HOST = "127.0.0.1";

/** Options of a gateway client on `port` with the gateway token, for one cell of {@linkcode MATRIX}. */
function gatewayOptions(port: number, { engine, protocolVersion }: (typeof MATRIX)[number]) {
  return { host: HOST, port, accessToken: SECRET.gatewayToken, engine, protocolVersion };
}

Deno.test("secrets: gateway client with a refused token", async () => {
  await using tb = await startEmulator();
  await Promise.all(MATRIX.map(async (cell) => {
    const rec = new Recorder();
    const gw = gatewayClient(rec, gatewayOptions(tb.port, cell));
    await failedConnect(rec, gw, (e) => {
      assert.ok(e instanceof ConnectionRefusedError, String(e));
    });
    rec.assertClean();
  }));
});

Deno.test("secrets: gateway session with claims, kicks, reconnects and disconnect()", async () => {
  await using tb = await startEmulator({
    devices: [{ name: "gw", accessToken: SECRET.gatewayToken, gateway: true }],
  });
  for (const cell of MATRIX) {
    const rec = new Recorder();
    const gw = gatewayClient(rec, {
      ...gatewayOptions(tb.port, cell),
      reconnect: { initialDelay: 10, maxDelay: 30 },
    });
    await gw.connect();
    await gw.connectDevice("Sensor A", { type: "sensor" });
    await gw.claimDevice("Sensor A", SECRET.claimKey, { durationMs: 60_000 });
    for (let i = 1; i <= 2; i++) {
      tb.disconnect("gw");
      await until(() => (rec.eventCounts.connect ?? 0) > i, 3000, `gateway reconnect ${i}`);
    }
    // A twin takes the session over.
    const twin = gatewayClient(rec, { ...gatewayOptions(tb.port, cell), reconnect: false }, "twin");
    await twin.connect();
    await twin.disconnect();
    rec.client("live", gw);
    await gw.disconnect();
    const late = gw.claimDevice("Sensor A", SECRET.claimKey, { signal: AbortSignal.timeout(30) });
    await rec.rejection("claim offline", late);
    rec.client("closed", gw);
    assert.ok(rec.logCounts.info > 0 && rec.logCounts.warn > 0);
    rec.assertClean();
  }
});

Deno.test({
  name: "secrets: generic MqttClient with user name and password against Mosquitto",
  ignore: mosquittoPath() === undefined,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tbwasm_secrets_" });
    try {
      const passwords = `${dir}/passwords`;
      const out = await new Deno.Command("mosquitto_passwd", {
        args: ["-c", "-b", passwords, "mq-user", SECRET.password],
        stdout: "null",
        stderr: "piped",
      }).output();
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      await using broker = await startMosquitto({
        extra: ["allow_anonymous false", `password_file ${passwords}`],
      });
      for (const codec of [tsCodec, wasmCodec]) {
        for (const protocolVersion of [5, 4] as const) {
          for (
            const password of [SECRET.password, new TextEncoder().encode(SECRET.password)]
          ) {
            const rec = new Recorder();
            const base = {
              host: HOST,
              port: broker.port,
              username: "mq-user",
              codec,
              protocolVersion,
            };
            // Wrong password (it carries the secret too).
            const wrong = mqttClient(rec, {
              ...base,
              password: typeof password === "string"
                ? `${password}-wrong`
                : new TextEncoder().encode(`${SECRET.password}-wrong`),
            }, "wrong");
            const e = await rec.rejection("wrong", wrong.connect());
            assert.ok(e instanceof ConnectionRefusedError, String(e));
            rec.client("wrong", wrong);
            await wrong.disconnect();
            // Right password: connect, publish, lose the broker, reconnect, disconnect.
            const right = mqttClient(rec, {
              ...base,
              password,
              reconnect: { initialDelay: 20, maxDelay: 50 },
            });
            await right.connect();
            await right.publish("t/x", new Uint8Array([1]), { qos: 1 });
            rec.client("connected", right);
            if (codec === tsCodec && typeof password === "string") {
              await broker.stop();
              await until(() => (rec.eventCounts.error ?? 0) > 0, 3000, "a failed reconnect");
              await broker.start();
              await until(() => (rec.eventCounts.connect ?? 0) > 1, 5000, "the reconnect");
            }
            await right.disconnect();
            rec.client("closed", right);
            rec.assertClean();
          }
        }
      }
      assert.ok(!broker.log().includes(SECRET.password));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
