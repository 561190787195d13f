import assert from "node:assert/strict";
import { startEmulator } from "../emulator/mod.ts";
import { TBDeviceMqttClient } from "../core/client/client.ts";
import { ProvisionError } from "../core/client/errors.ts";
import { matrix } from "./client_harness.ts";
import { ConnectionClosedError } from "../core/mqtt/mod.ts";
import { tsCodec } from "../core/codec/mod.ts";

const profiles = [
  {
    name: "open",
    provisionKey: "OPEN_KEY",
    provisionSecret: "OPEN_SECRET",
    strategy: "allowCreateNewDevices",
  },
  {
    name: "pre",
    provisionKey: "PRE_KEY",
    provisionSecret: "PRE_SECRET",
    strategy: "checkPreProvisionedDevices",
  },
] as const;

matrix(
  "TBDeviceMqttClient.provision() returns credentials the device can connect with",
  async (v) => {
    await using tb = await startEmulator({ port: 0, profiles: [...profiles] });
    const sessionSeen = tb.waitFor("provisionConnect", () => true);
    const request = TBDeviceMqttClient.getProvisionRequest("OPEN_KEY", "OPEN_SECRET", {
      deviceName: "new-1",
    });
    const creds = await TBDeviceMqttClient.provision(tb.host, tb.port, request, {
      protocolVersion: v.protocolVersion,
      engine: v.engine,
    });
    assert.equal(creds.credentialsType, "ACCESS_TOKEN");
    assert.ok(creds.credentialsType === "ACCESS_TOKEN" && creds.accessToken.length > 0);
    const session = await sessionSeen;
    // A provision-only session from the user name "provision", with a client id of its own.
    assert.match(session.clientId, /^provision-[0-9a-f]{8}$/);
    assert.equal(session.protocolVersion, v.protocolVersion);
    assert.equal(tb.getDevice("new-1")?.accessToken, creds.accessToken);
    const closed = await tb.waitFor("disconnect", (e) => e.session === session.session, {
      since: 0,
    });
    assert.equal(closed.reason, "client", "the client closed the provisioning connection itself");

    const { credentialsType: _, ...options } = creds;
    await using client = new TBDeviceMqttClient({
      host: tb.host,
      port: tb.port,
      protocolVersion: v.protocolVersion,
      engine: v.engine,
      ...options,
    });
    await client.connect();
    await client.sendTelemetry({ provisioned: true });
    assert.equal(tb.getLatestTelemetry("new-1").provisioned?.value, true);
  },
);

matrix(
  "TBDeviceMqttClient.provision() passes requested access tokens and MQTT basic credentials",
  async (v) => {
    await using tb = await startEmulator({ port: 0, profiles: [...profiles] });
    const opts = { protocolVersion: v.protocolVersion, engine: v.engine };
    const token = await TBDeviceMqttClient.provision(
      tb.host,
      tb.port,
      TBDeviceMqttClient.getProvisionRequest("OPEN_KEY", "OPEN_SECRET", {
        deviceName: "t1",
        accessToken: "MY_TOKEN_1",
      }),
      opts,
    );
    assert.deepEqual(token, { credentialsType: "ACCESS_TOKEN", accessToken: "MY_TOKEN_1" });
    const basic = await TBDeviceMqttClient.provision(
      tb.host,
      tb.port,
      TBDeviceMqttClient.getProvisionRequest("OPEN_KEY", "OPEN_SECRET", {
        deviceName: "b1",
        clientId: "b1-client",
        username: "b1-user",
        password: "b1-pass",
      }),
      opts,
    );
    assert.deepEqual(basic, {
      credentialsType: "MQTT_BASIC",
      clientId: "b1-client",
      username: "b1-user",
      password: "b1-pass",
    });
    const { credentialsType: _, ...options } = basic;
    await using client = new TBDeviceMqttClient({
      host: tb.host,
      port: tb.port,
      ...options,
      ...opts,
    });
    await client.connect();
    assert.equal(tb.isConnected("b1"), true);
  },
);

matrix(
  "TBDeviceMqttClient.provision() throws ProvisionError with ThingsBoard's status",
  async (v) => {
    await using tb = await startEmulator({ port: 0, profiles: [...profiles] });
    tb.createDevice({ name: "existing", profile: "pre" });
    const opts = { protocolVersion: v.protocolVersion, engine: v.engine };
    const cases: Array<[string, string, Record<string, string>, string]> = [
      ["OPEN_KEY", "WRONG_SECRET", { deviceName: "x" }, "NOT_FOUND"],
      ["UNKNOWN_KEY", "OPEN_SECRET", { deviceName: "x" }, "NOT_FOUND"],
      ["PRE_KEY", "PRE_SECRET", { deviceName: "not-pre-provisioned" }, "FAILURE"],
    ];
    for (const [key, secret, options, status] of cases) {
      await assert.rejects(
        TBDeviceMqttClient.provision(
          tb.host,
          tb.port,
          TBDeviceMqttClient.getProvisionRequest(key, secret, options),
          opts,
        ),
        (e: unknown) => {
          assert.ok(e instanceof ProvisionError, String(e));
          assert.equal(e.status, status);
          assert.equal(typeof e.errorMsg, "string");
          assert.doesNotMatch(e.message, /SECRET/);
          return true;
        },
        `${key}/${secret}`,
      );
    }
    // A device name that already exists cannot be created again.
    const request = TBDeviceMqttClient.getProvisionRequest("OPEN_KEY", "OPEN_SECRET", {
      deviceName: "dup",
    });
    await TBDeviceMqttClient.provision(tb.host, tb.port, request, opts);
    await assert.rejects(
      TBDeviceMqttClient.provision(tb.host, tb.port, request, opts),
      (e: unknown) => e instanceof ProvisionError && e.status === "FAILURE",
    );
    // Pre-provisioned devices get their existing credentials.
    const pre = await TBDeviceMqttClient.provision(
      tb.host,
      tb.port,
      TBDeviceMqttClient.getProvisionRequest("PRE_KEY", "PRE_SECRET", { deviceName: "existing" }),
      opts,
    );
    assert.deepEqual(pre, {
      credentialsType: "ACCESS_TOKEN",
      accessToken: tb.getDevice("existing")?.accessToken,
    });
    // Every provisioning session was closed by the client, none by the server's timeout.
    for (const opened of tb.events().filter((e) => e.type === "provisionConnect")) {
      const closed = await tb.waitFor("disconnect", (e) => e.session === opened.session, {
        since: 0,
      });
      assert.equal(closed.reason, "client");
    }
  },
);

Deno.test("TBDeviceMqttClient.provision() honours timeout and abort", async () => {
  // A listener that accepts TCP and never answers.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) conns.push(conn);
  })();
  const { port } = listener.addr as Deno.NetAddr;
  const request = TBDeviceMqttClient.getProvisionRequest("K", "S");
  await assert.rejects(TBDeviceMqttClient.provision("127.0.0.1", port, request, { timeout: 100 }), {
    name: "TimeoutError",
  });
  const controller = new AbortController();
  const pending = TBDeviceMqttClient.provision("127.0.0.1", port, request, {
    signal: controller.signal,
  });
  controller.abort();
  await assert.rejects(pending, { name: "AbortError" });
  listener.close();
  await accepting;
  for (const c of conns) c.close();
});

Deno.test(
  "TBDeviceMqttClient.provision() fails at once when the server closes the connection before answering",
  async (t) => {
    for (const closeOn of ["subscribe", "publish"] as const) {
      await t.step(`closed on ${closeOn}`, async () => {
        const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
        const serving = (async () => {
          const conn = await listener.accept();
          const decoder = tsCodec.createDecoder();
          const buf = new Uint8Array(4096);
          try {
            for (;;) {
              const n = await conn.read(buf);
              if (n === null) break;
              for (const p of decoder.push(buf.slice(0, n))) {
                if (p.type === closeOn) throw new Error("close");
                if (p.type === "connect") {
                  await conn.write(tsCodec.encode({
                    type: "connack",
                    sessionPresent: false,
                    reasonCode: 0,
                  }, { protocolVersion: 4 }));
                } else if (p.type === "subscribe") {
                  await conn.write(tsCodec.encode({
                    type: "suback",
                    packetId: p.packetId,
                    reasonCodes: [1],
                  }, { protocolVersion: 4 }));
                }
              }
            }
          } catch {
            // close the connection
          } finally {
            conn.close();
            listener.close();
          }
        })();
        const request = TBDeviceMqttClient.getProvisionRequest("K", "S");
        const port = (listener.addr as Deno.NetAddr).port;
        await assert.rejects(
          TBDeviceMqttClient.provision("127.0.0.1", port, request, {
            protocolVersion: 4,
            engine: "ts",
            timeout: 5000,
          }),
          (e: unknown) =>
            e instanceof ConnectionClosedError &&
            /the server closed the connection before answering/.test(e.message),
        );
        await serving;
      });
    }
  },
);
