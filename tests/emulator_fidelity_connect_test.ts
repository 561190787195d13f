/**
 * Fidelity of CONNECT handling to ThingsBoard (reference §1.1): CONNACK codes per protocol level
 * (`ReturnCodeResolver`), credential modes, provisioning sessions, `sessionPresent`, one session
 * per device, keep alive vs. inactivity.
 */

import assert from "node:assert/strict";
import {
  emulator,
  jsConnect,
  type Level,
  LEVELS,
  mqttName,
  Raw,
  rawDevice,
  rawSession,
  sleep,
} from "./_emulator_fidelity.ts";

/** The CONNACK code of a CONNACK as mqtt-packet parses it (3.1.1 returnCode, 5 reasonCode). */
function connackCode(p: Record<string, unknown>): number {
  return (p.reasonCode ?? p.returnCode ?? 0) as number;
}

interface RefusalCase {
  what: string;
  connect: { clientId?: string; username?: string; password?: string };
  v4: number;
  v5: number;
}

// Reference §1.1 "CONNACK codes on failure" (MTH.onValidateDeviceResponse + ReturnCodeResolver).
const REFUSALS: RefusalCase[] = [
  {
    what: "a bad token (user name only)",
    connect: { clientId: "c1", username: "NO_SUCH_TOKEN" },
    v4: 5,
    v5: 0x86,
  },
  {
    what: "unknown user name, password and client id",
    connect: { clientId: "c1", username: "nobody", password: "pw" },
    v4: 5,
    v5: 0x86,
  },
  {
    what: "a wrong password for MQTT basic credentials",
    connect: { clientId: "basic-cid", username: "basic-user", password: "WRONG" },
    v4: 5,
    v5: 0x86,
  },
  {
    what: "no user name or password and an unknown client id",
    connect: { clientId: "ghost" },
    v4: 2,
    v5: 0x85,
  },
  {
    what: "nothing usable (no user name, no password, empty client id)",
    connect: { clientId: "" },
    v4: 5,
    v5: 0x87,
  },
  {
    what: "nothing usable (a blank client id)",
    connect: { clientId: "   " },
    v4: 5,
    v5: 0x87,
  },
];

for (const version of LEVELS) {
  for (const c of REFUSALS) {
    const code = version === 5 ? c.v5 : c.v4;
    const then = version === 5 ? "then DISCONNECT with the same code" : "then closes TCP";
    Deno.test(
      `emulator answers ${c.what} on ${mqttName(version)} with CONNACK 0x${
        code.toString(16)
      }, ${then} (ThingsBoard ReturnCodeResolver)`,
      async () => {
        await using tb = await emulator();
        tb.createDevice({
          name: "basic",
          credentials: { clientId: "basic-cid", userName: "basic-user", password: "secret" },
        });
        await using raw = await Raw.open(tb, version);
        const ack = await raw.connect(c.connect);
        assert.equal(connackCode(ack), code);
        assert.equal(ack.sessionPresent, false);
        assert.ok(await raw.closedWithin(2000), "connection closed after the refusal");
        // Checked on the bytes: mqtt-packet refuses 0x85/0x86 as DISCONNECT reason codes,
        // which ThingsBoard nevertheless sends (closeCtx with the CONNACK code).
        const bytes = [...raw.received];
        const connack = version === 5 ? [0x20, 0x03, 0, code, 0] : [0x20, 0x02, 0, code];
        const disconnect = version === 5 ? [0xe0, 0x01, code] : [];
        assert.deepEqual(bytes, [...connack, ...disconnect]);
      },
    );
  }

  Deno.test(
    `emulator refuses a bad token on ${mqttName(version)} for an MQTT.js client with CONNACK ${
      version === 5 ? "0x86" : "5"
    } (ThingsBoard ReturnCodeResolver)`,
    async () => {
      await using tb = await emulator();
      const err = await jsConnect(tb, version, { username: "NOT_A_TOKEN" }).then(
        () => undefined,
        (e) => e,
      );
      assert.ok(err instanceof Error, "connect rejected");
      if (version === 4) assert.equal((err as { code?: number }).code, 5);
      // On 5 the DISCONNECT 0x86 that follows the CONNACK in the same TCP segment makes
      // mqtt-packet fail first ("Invalid disconnect reason code"); either way it is refused.
      else assert.match(err.message, /Bad User Name or Password|Invalid disconnect reason code/);
    },
  );

  // Reference §1.1 "Credential modes".
  const ACCEPTED: [string, Record<string, string | undefined>][] = [
    ["an access token with no password", { clientId: "any", username: "TOKEN_1" }],
    ["an access token with an ignored password", {
      clientId: "any",
      username: "TOKEN_1",
      password: "pswd",
    }],
    ["an access token with an empty client id", { clientId: "", username: "TOKEN_1" }],
    ["MQTT basic client id + user name + password", {
      clientId: "cid-full",
      username: "user-full",
      password: "pw-full",
    }],
    ["MQTT basic client id only", { clientId: "cid-only" }],
    ["MQTT basic user name + password", {
      clientId: "random",
      username: "user-only",
      password: "pw",
    }],
  ];
  for (const [what, creds] of ACCEPTED) {
    Deno.test(
      `emulator accepts ${what} on ${
        mqttName(version)
      } with CONNACK 0 (ThingsBoard credential modes)`,
      async () => {
        await using tb = await emulator();
        tb.createDevice({ name: "tok", accessToken: "TOKEN_1" });
        tb.createDevice({
          name: "full",
          credentials: { clientId: "cid-full", userName: "user-full", password: "pw-full" },
        });
        tb.createDevice({ name: "cid", credentials: { clientId: "cid-only" } });
        tb.createDevice({ name: "user", credentials: { userName: "user-only", password: "pw" } });
        await using raw = await Raw.open(tb, version);
        const ack = await raw.connect(creds as never);
        assert.equal(connackCode(ack), 0);
        await raw.ping();
        assert.equal(tb.sessions.length, 1);
        assert.equal(tb.sessions[0]!.kind, "device");
      },
    );
  }

  for (const field of ["username", "clientId"] as const) {
    Deno.test(
      `emulator opens a provision-only session for ${field} "provision" on ${
        mqttName(version)
      } without a credential check (ThingsBoard processConnect)`,
      async () => {
        await using tb = await emulator();
        await using raw = await Raw.open(tb, version);
        const ack = await raw.connect(
          field === "username" ? { clientId: "x", username: "provision" } : {
            clientId: "provision",
          },
        );
        assert.equal(connackCode(ack), 0);
        assert.equal(tb.sessions[0]!.kind, "provision");
        // Only /provision/response may be subscribed in a provisioning session (§1.4.9).
        const failure = version === 5 ? 0x8f : 0x80;
        assert.deepEqual(
          await raw.subscribe(["/provision/response", 1], ["v1/devices/me/attributes", 1]),
          [1, failure],
        );
        await raw.ping();
      },
    );
  }

  Deno.test(
    `emulator sets sessionPresent = !cleanSession on ${
      mqttName(version)
    } but keeps no subscriptions (ThingsBoard createMqttConnAckMsg)`,
    async () => {
      await using tb = await emulator();
      const device = tb.createDevice({ name: "d", accessToken: "TOK" });
      {
        await using first = await Raw.open(tb, version);
        const ack = await first.connect({ clientId: "c", username: "TOK", clean: false });
        assert.equal(ack.sessionPresent, true);
        assert.deepEqual(await first.subscribe(["v1/devices/me/attributes", 1]), [1]);
        await first.send({ cmd: "disconnect" });
        await first.closedWithin();
      }
      await using second = await Raw.open(tb, version);
      const ack = await second.connect({ clientId: "c", username: "TOK", clean: false });
      assert.equal(ack.sessionPresent, true);
      const clean = await rawSession(tb, version, { clientId: "c2", username: "TOK" });
      await second.closedWithin(); // taken over by the clean session below
      tb.setSharedAttributes(device, { k: 1 });
      await clean.nothing((p) => p.cmd === "publish");
      await clean.close();
    },
  );

  Deno.test(
    `emulator hands a second connection of the same device the session on ${mqttName(version)}: ${
      version === 5 ? "the first gets DISCONNECT 0x8E" : "the first is closed"
    } (ThingsBoard max_concurrent_sessions_per_device)`,
    async () => {
      await using tb = await emulator();
      const { c: first, device } = await rawDevice(tb, version);
      await using _first = first;
      await using second = await rawSession(tb, version, {
        clientId: "other",
        username: device.accessToken!,
      });
      if (version === 5) {
        const d = await first.nextOf("disconnect");
        assert.equal(d.reasonCode, 0x8e);
      }
      assert.ok(await first.closedWithin(), "first connection closed");
      assert.equal((await second.publish("v1/devices/me/telemetry", '{"t":1}'))?.cmd, "puback");
      assert.equal(tb.getLatestTelemetry(device).t?.value, 1);
      assert.ok(tb.isConnected(device));
    },
  );

  Deno.test(
    `emulator sets no CONNACK properties and accepts on ${mqttName(version)} (ThingsBoard §1.1)`,
    async () => {
      await using tb = await emulator();
      tb.createDevice({ name: "d", accessToken: "TOK" });
      await using raw = await Raw.open(tb, version);
      const ack = await raw.connect({ clientId: "c", username: "TOK" });
      assert.equal(connackCode(ack), 0);
      assert.equal(ack.properties, undefined);
    },
  );

  Deno.test(
    `emulator closes a session idle for the inactivity timeout on ${mqttName(version)}${
      version === 5 ? " with DISCONNECT 0xA0" : ""
    }, PINGREQ counting as activity (ThingsBoard inactivity_timeout)`,
    async () => {
      // 1.5 s against pings every 0.1 s: a busy machine's stalls stay far below the timeout.
      await using tb = await emulator({ inactivityTimeout: 1500 });
      const { c: busy } = await rawDevice(tb, version);
      const { c: idle } = await rawDevice(tb, version);
      await using _b = busy;
      await using _i = idle;
      for (let i = 0; i < 18; i++) {
        await sleep(100);
        await busy.ping();
      }
      if (version === 5) assert.equal((await idle.nextOf("disconnect")).reasonCode, 0xa0);
      assert.ok(await idle.closedWithin(2000), "idle session closed");
      assert.equal(busy.closed, false, "pinging session kept");
    },
  );
}

Deno.test(
  "emulator does not enforce the MQTT keep alive (ThingsBoard has no IdleStateHandler)",
  async () => {
    await using tb = await emulator();
    tb.createDevice({ name: "d", accessToken: "TOK" });
    await using raw = await rawSession(tb, 4, { clientId: "c", username: "TOK", keepalive: 1 });
    await sleep(1800); // 1.5 × keep alive elapsed without any packet
    assert.equal(raw.closed, false);
    await raw.ping();
  },
);

Deno.test(
  "emulator accepts MQTT 3.1 (protocol level 3) CONNECTs with a token (ThingsBoard getMqttVersion)",
  async () => {
    await using tb = await emulator();
    const device = tb.createDevice({ name: "d", accessToken: "TOK" });
    await using raw = await Raw.open(tb, 3);
    const ack = await raw.connect({ clientId: "c", username: "TOK" });
    assert.equal(ack.returnCode, 0);
    assert.equal((await raw.publish("v1/devices/me/telemetry", '{"a":1}'))?.cmd, "puback");
    assert.equal(tb.getLatestTelemetry(device).a?.value, 1);
    const refused = await Raw.open(tb, 3);
    assert.equal((await refused.connect({ clientId: "c", username: "BAD" })).returnCode, 5);
    assert.ok(await refused.closedWithin());
  },
);

Deno.test("emulator session of an MQTT.js device is usable over MQTT 3.1.1 and 5", async () => {
  await using tb = await emulator();
  const device = tb.createDevice({ name: "js", accessToken: "JS_TOKEN" });
  for (const version of [4, 5] as Level[]) {
    const client = await jsConnect(tb, version, { username: "JS_TOKEN" });
    await client.publishAsync("v1/devices/me/telemetry", `{"v":${version}}`, { qos: 1 });
    assert.equal(tb.getLatestTelemetry(device).v?.value, version);
    await client.endAsync();
  }
});
