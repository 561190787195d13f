/**
 * TLS for the device client and for provisioning, against the emulator's
 * TLS listener with a CA made by the test. Server verification stays on:
 * without the CA the connection is refused.
 */

import assert from "node:assert/strict";
import { startEmulator } from "../emulator/mod.ts";
import { ConnectionClosedError } from "../core/mqtt/mod.ts";
import { TBDeviceMqttClient } from "../core/client/client.ts";
import { hasOpenssl, type TestPki, withPki } from "./_mosquitto.ts";

const openssl = await hasOpenssl();

/** The emulator's TLS listener options for the test PKI's server certificate. */
function serverTls(pki: TestPki): { cert: string; key: string } {
  return {
    cert: Deno.readTextFileSync(pki.serverCertFile),
    key: Deno.readTextFileSync(pki.serverKeyFile),
  };
}

Deno.test({
  name: "TBDeviceMqttClient.connect() over TLS verifies the server with a custom CA",
  ignore: !openssl,
  fn: () =>
    withPki(async (pki) => {
      await using tb = await startEmulator({
        port: 0,
        tls: serverTls(pki),
        devices: [{ name: "d1", accessToken: "TLS_TOKEN" }],
      });
      const port = tb.tlsPort!;
      {
        await using client = new TBDeviceMqttClient({
          host: "127.0.0.1",
          port,
          accessToken: "TLS_TOKEN",
          tls: { caCerts: [pki.ca] },
        });
        await client.connect({ timeout: 5000 });
        await client.sendTelemetry({ secure: true });
        assert.equal(tb.getLatestTelemetry("d1").secure?.value, true);
        assert.equal(tb.sessions.find((s) => s.device === "d1")?.tls, true);
      }
      await using untrusting = new TBDeviceMqttClient({
        host: "127.0.0.1",
        port,
        accessToken: "TLS_TOKEN",
        tls: true,
        reconnect: false,
        fallback: false,
      });
      await assert.rejects(untrusting.connect({ timeout: 5000 }), (e: unknown) =>
        e instanceof ConnectionClosedError && /UnknownIssuer/.test(e.message));
      assert.equal(untrusting.connected, false);
    }),
});

Deno.test({
  name: "TBDeviceMqttClient.provision() over TLS keeps server verification on",
  ignore: !openssl,
  fn: () =>
    withPki(async (pki) => {
      await using tb = await startEmulator({
        port: 0,
        tls: serverTls(pki),
        profiles: [{
          name: "p",
          provisionKey: "K",
          provisionSecret: "S",
          strategy: "allowCreateNewDevices",
        }],
      });
      const request = TBDeviceMqttClient.getProvisionRequest("K", "S", { deviceName: "tls-dev" });
      await assert.rejects(
        TBDeviceMqttClient.provision("127.0.0.1", tb.tlsPort!, request, {
          tls: true,
          timeout: 5000,
        }),
        /UnknownIssuer/,
      );
      assert.equal(
        tb.getDevice("tls-dev"),
        undefined,
        "nothing was provisioned over an unverified connection",
      );
      const creds = await TBDeviceMqttClient.provision("127.0.0.1", tb.tlsPort!, request, {
        tls: { caCerts: [pki.ca] },
        timeout: 5000,
      });
      assert.equal(creds.credentialsType, "ACCESS_TOKEN");
      assert.ok(tb.getDevice("tls-dev"));
    }),
});
