/**
 * MqttClient over TLS to a real Mosquitto, with a self-signed CA made by the
 * test (openssl CLI), including X.509 client-certificate authentication.
 */
import assert from "node:assert/strict";
import { MqttClient } from "../core/mqtt/mod.ts";
import { hasOpenssl, mosquittoPath, startMosquitto, withPki } from "./_mosquitto.ts";

const ignore = mosquittoPath() === undefined || !(await hasOpenssl());
const enc = (s: string) => new TextEncoder().encode(s);

async function roundTrip(client: MqttClient): Promise<string> {
  const got = new Promise<string>((resolve) =>
    client.addEventListener("message", (e) => resolve(new TextDecoder().decode(e.detail.payload)), {
      once: true,
    })
  );
  await client.subscribe([{ topicFilter: "tls/t", qos: 1 }]);
  await client.publish("tls/t", enc("secure"), { qos: 1 });
  return await got;
}

Deno.test({
  name: "MqttClient connects over TLS, verifying the server against a custom CA",
  ignore,
  async fn() {
    await withPki(async (pki) => {
      const broker = await startMosquitto({
        tls: { caFile: pki.caFile, certFile: pki.serverCertFile, keyFile: pki.serverKeyFile },
      });
      try {
        const client = new MqttClient({
          host: "127.0.0.1",
          port: broker.tlsPort!,
          tls: { caCerts: [pki.ca] },
        });
        await client.connect();
        assert.equal(await roundTrip(client), "secure");
        await client.disconnect();
        // "localhost" is in the certificate too; serverName checks a name other than the host
        const named = new MqttClient({
          host: "127.0.0.1",
          port: broker.tlsPort!,
          tls: { caCerts: [pki.ca], serverName: "localhost" },
        });
        await named.connect();
        await named.disconnect();
        // Verification is on by default: the self-signed CA is not trusted without caCerts.
        const untrusted = new MqttClient({
          host: "127.0.0.1",
          port: broker.tlsPort!,
          tls: true,
          reconnect: false,
        });
        const e = await untrusted.connect().catch((e) => e);
        assert.ok(e instanceof Error);
        assert.match(
          String(e.message) + String(e.cause),
          /certificate|UnknownIssuer|invalid peer/i,
        );
        assert.equal(untrusted.state, "disconnected");
        // A name the certificate does not carry is refused.
        const wrongName = new MqttClient({
          host: "127.0.0.1",
          port: broker.tlsPort!,
          tls: { caCerts: [pki.ca], serverName: "example.com" },
        });
        await assert.rejects(wrongName.connect());
      } finally {
        await broker.close();
      }
    });
  },
});

Deno.test({
  name: "MqttClient authenticates with an X.509 client certificate (require_certificate true)",
  ignore,
  async fn() {
    await withPki(async (pki) => {
      const broker = await startMosquitto({
        tls: {
          caFile: pki.caFile,
          certFile: pki.serverCertFile,
          keyFile: pki.serverKeyFile,
          requireCertificate: true,
        },
      });
      try {
        const client = new MqttClient({
          host: "127.0.0.1",
          port: broker.tlsPort!,
          tls: { caCerts: [pki.ca], cert: pki.clientCert, key: pki.clientKey },
        });
        await client.connect();
        assert.equal(await roundTrip(client), "secure");
        await client.disconnect();
        for (
          const tls of [{ caCerts: [pki.ca] }, {
            caCerts: [pki.ca],
            cert: pki.rogueCert,
            key: pki.rogueKey,
          }]
        ) {
          const refused = new MqttClient({
            host: "127.0.0.1",
            port: broker.tlsPort!,
            tls,
            reconnect: false,
          });
          const e = await refused.connect().catch((e) => e);
          assert.equal(e.name, "ConnectionClosedError");
          assert.match(
            e.message,
            /closed before CONNACK \(received fatal alert: (CertificateRequired|UnknownCA)\)/,
          );
          assert.equal(refused.state, "disconnected");
          assert.equal(refused.connected, false);
        }
        assert.throws(
          () => new MqttClient({ host: "127.0.0.1", tls: { cert: pki.clientCert } }),
          TypeError,
        );
      } finally {
        await broker.close();
      }
    });
  },
});
