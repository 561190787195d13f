/**
 * No secret is observable on TLS paths: an untrusted (self-signed) server,
 * X.509 client certificates accepted and refused, a mismatched or corrupt
 * private key, provisioning over untrusted TLS. The client key's PEM body
 * and its private scalar (in every encoding) must never appear.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startEmulator } from "../emulator/mod.ts";
import { getProvisionRequest, provision, type TBDeviceMqttClient } from "../mod.ts";
import { makeTestPki, mosquittoPath, startMosquitto, type TestPki } from "./_mosquitto.ts";
import {
  deviceClient,
  failedConnect,
  MATRIX,
  mqttClient,
  type Needle,
  needlesFor,
  Recorder,
  SECRET,
  SECRET_NEEDLES,
} from "./_secrets_independent.ts";
import { keySecrets } from "./_secrets_independent_servers.ts";

const HOST = "127.0.0.1";

function needles(pki: TestPki): Needle[] {
  return [
    ...SECRET_NEEDLES,
    ...needlesFor(keySecrets(pki.clientKey)),
    ...needlesFor(keySecrets(pki.rogueKey)),
    { label: "PEM key marker", text: "PRIVATE KEY" },
  ];
}

/** The key with one base64 character of its first body line changed. */
function corrupt(pem: string): string {
  const lines = pem.split("\n");
  const line = lines[1]!;
  const at = 40;
  lines[1] = line.slice(0, at) + (line[at] === "A" ? "B" : "A") + line.slice(at + 1);
  return lines.join("\n");
}

Deno.test("secrets: TLS failures and X.509 client certificates", async (t) => {
  const pki = await makeTestPki();
  try {
    const cert = Deno.readTextFileSync(pki.serverCertFile);
    const key = Deno.readTextFileSync(pki.serverKeyFile);
    await using tb = await startEmulator({ tls: { cert, key } });
    const tlsPort = tb.tlsPort!;
    const all = needles(pki);
    assert.ok(keySecrets(pki.clientKey).keyScalar instanceof Uint8Array);

    await t.step("untrusted server: token, basic and X.509 credentials", async () => {
      await Promise.all(MATRIX.flatMap(({ engine, protocolVersion }) => {
        const variants: ConstructorParameters<typeof TBDeviceMqttClient>[0][] = [
          { host: HOST, accessToken: SECRET.token, tls: true },
          { host: HOST, username: "u", password: SECRET.password, tls: {} },
          { host: HOST, tls: { cert: pki.clientCert, key: pki.clientKey } },
          { host: HOST, tls: { cert: pki.rogueCert, key: pki.rogueKey, caCerts: [pki.rogueCert] } },
          { host: "localhost", accessToken: SECRET.token, tls: { serverName: "nope.invalid" } },
        ];
        return variants.map(async (o) => {
          const rec = new Recorder();
          const client = deviceClient(rec, {
            ...o,
            port: tlsPort,
            engine,
            protocolVersion,
            connectTimeout: 3000,
          });
          rec.client("before", client);
          await failedConnect(rec, client, (e) => {
            assert.match(String((e as Error).message), /certificate|Cannot connect/i);
          });
          rec.assertClean(all);
        });
      }));
    });

    await t.step("trusted server, client certificate without credentials (refused)", async () => {
      for (const { engine, protocolVersion } of MATRIX) {
        const rec = new Recorder();
        const client = deviceClient(rec, {
          host: HOST,
          port: tlsPort,
          tls: { caCerts: [pki.ca], cert: pki.clientCert, key: pki.clientKey },
          engine,
          protocolVersion,
        });
        await failedConnect(rec, client);
        rec.assertClean(all);
      }
    });

    await t.step("trusted server, bad token over TLS; mismatched and corrupt keys", async () => {
      const cases: ConstructorParameters<typeof TBDeviceMqttClient>[0][] = [
        { host: HOST, accessToken: SECRET.token, tls: { caCerts: [pki.ca] } },
        { host: HOST, tls: { caCerts: [pki.ca], cert: pki.clientCert, key: pki.rogueKey } },
        {
          host: HOST,
          tls: { caCerts: [pki.ca], cert: pki.clientCert, key: corrupt(pki.clientKey) },
        },
        { host: HOST, tls: { caCerts: [pki.ca], cert: pki.clientCert, key: pki.clientCert } },
        { host: HOST, tls: { caCerts: [pki.ca], cert: pki.clientKey, key: pki.clientKey } },
      ];
      for (const { engine, protocolVersion } of MATRIX) {
        for (const o of cases) {
          const rec = new Recorder();
          const client = deviceClient(rec, { ...o, port: tlsPort, engine, protocolVersion });
          await rec.rejection("connect", client.connect());
          await client.disconnect();
          rec.assertClean(all);
        }
      }
    });

    await t.step("provisioning over TLS to an untrusted server", async () => {
      const rec = new Recorder();
      const request = getProvisionRequest(SECRET.provisionKey, SECRET.provisionSecret, {
        accessToken: SECRET.wantedToken,
      });
      for (const { engine, protocolVersion } of MATRIX) {
        await rec.rejection(
          "provision",
          provision(HOST, tlsPort, request, {
            tls: true,
            engine,
            protocolVersion,
            logger: rec.logger,
            timeout: 3000,
          }),
        );
      }
      rec.assertClean(all);
    });
  } finally {
    await Deno.remove(pki.dir, { recursive: true });
  }
});

Deno.test({
  name: "secrets: Mosquitto requiring client certificates (generic client, both engines)",
  ignore: mosquittoPath() === undefined,
  async fn() {
    const pki = await makeTestPki();
    try {
      await using broker = await startMosquitto({
        tls: {
          caFile: pki.caFile,
          certFile: pki.serverCertFile,
          keyFile: pki.serverKeyFile,
          requireCertificate: true,
        },
      });
      const all = needles(pki);
      const { tsCodec } = await import("../core/codec/mod.ts");
      const { wasmCodec } = await import("../wasm/mod.ts");
      for (const codec of [tsCodec, wasmCodec]) {
        for (const protocolVersion of [5, 4] as const) {
          // A certificate from an untrusted CA: the broker aborts the handshake.
          const rec = new Recorder();
          const rogue = mqttClient(rec, {
            host: HOST,
            port: broker.tlsPort!,
            tls: { caCerts: [pki.ca], cert: pki.rogueCert, key: pki.rogueKey },
            username: "u",
            password: SECRET.password,
            codec,
            protocolVersion,
            connectTimeout: 3000,
            reconnect: false,
          });
          await rec.rejection("rogue", rogue.connect());
          rec.client("rogue", rogue);
          await rogue.disconnect();
          // The trusted certificate: accepted; then the broker goes away and comes back.
          const good = mqttClient(rec, {
            host: HOST,
            port: broker.tlsPort!,
            tls: { caCerts: [pki.ca], cert: pki.clientCert, key: pki.clientKey },
            password: new TextEncoder().encode(SECRET.password),
            username: "device-1",
            codec,
            protocolVersion,
            reconnect: { initialDelay: 20, maxDelay: 50 },
          });
          await good.connect();
          rec.client("good", good);
          await good.publish("t/x", new Uint8Array([1]), { qos: 1 });
          await good.disconnect();
          assert.equal(good.state, "disconnected");
          rec.assertClean(all);
        }
      }
      assert.doesNotMatch(broker.log(), /PRIVATE KEY/);
    } finally {
      await Deno.remove(pki.dir, { recursive: true });
    }
  },
});
