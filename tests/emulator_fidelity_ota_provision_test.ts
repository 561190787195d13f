/**
 * Fidelity of OTA chunk serving (reference §1.4.10) and device provisioning (§1.4.9) to
 * ThingsBoard.
 */

import assert from "node:assert/strict";
import {
  emulator,
  json,
  LEVELS,
  mqttName,
  pubackCode,
  Raw,
  rawDevice,
  rawSession,
} from "./_emulator_fidelity.ts";

const encodeHex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

const DATA = Uint8Array.from({ length: 250 }, (_, i) => i);

for (const version of LEVELS) {
  const name = mqttName(version);

  Deno.test(
    `emulator assigns firmware as fw_* shared attributes pushed to the device on ${name} (ThingsBoard §1.4.10)`,
    async () => {
      await using tb = await emulator();
      const { c, device } = await rawDevice(tb, version);
      await using _c = c;
      await c.subscribe(["v1/devices/me/attributes", 1]);
      tb.assignOtaPackage(device, { title: "app", version: "2.0", data: DATA });
      const pushes: Record<string, unknown> = {};
      while (!("fw_checksum" in pushes)) {
        Object.assign(pushes, json(await c.message("v1/devices/me/attributes")));
      }
      const sha = encodeHex(new Uint8Array(await crypto.subtle.digest("SHA-256", DATA)));
      assert.deepEqual(
        { ...pushes, deleted: undefined },
        {
          deleted: undefined,
          fw_title: "app",
          fw_version: "2.0",
          fw_size: 250,
          fw_checksum_algorithm: "SHA256",
          fw_checksum: sha,
        },
      );
      tb.unassignOtaPackage(device);
      const del = json(await c.message("v1/devices/me/attributes")) as { deleted: string[] };
      for (const k of ["fw_title", "fw_version", "fw_size", "fw_checksum"]) {
        assert.ok(del.deleted.includes(k), `${k} deleted`);
      }
    },
  );

  for (const [type, p] of [["firmware", "fw"], ["software", "sw"]] as const) {
    Deno.test(
      `emulator serves ${type} chunks on v2/${p}/response/{rid}/chunk/{n} without a subscription on ${name} (payload = chunk size in ASCII; empty = remembered size or whole file)`,
      async () => {
        await using tb = await emulator();
        const { c, device } = await rawDevice(tb, version);
        await using _c = c;
        tb.assignOtaPackage(device, { type, title: "pkg", version: "1", data: DATA });
        const chunk = async (rid: number | string, n: number | string, payload: string) => {
          const topic = `v2/${p}/request/${rid}/chunk/${n}`;
          assert.equal(pubackCode(await c.publish(topic, payload)), 0);
          const m = await c.message(new RegExp(`^v2/${p}/response/`));
          assert.equal(m.qos, 1);
          return { topic: m.topic, bytes: [...m.payload] as number[] };
        };
        const slice = (a: number, b: number) => [...DATA.subarray(a, b)];
        assert.deepEqual(await chunk(1, 0, "100"), {
          topic: `v2/${p}/response/1/chunk/0`,
          bytes: slice(0, 100),
        });
        assert.deepEqual((await chunk(1, 1, "100")).bytes, slice(100, 200));
        assert.deepEqual((await chunk(1, 2, "100")).bytes, slice(200, 250), "short last chunk");
        assert.deepEqual((await chunk(1, 3, "100")).bytes, [], "beyond the end: empty");
        assert.deepEqual((await chunk(1, 1, "")).bytes, slice(100, 200), "size remembered");
        assert.deepEqual((await chunk(2, 0, "")).bytes, slice(0, 250), "whole file");
        assert.deepEqual((await chunk(3, 2, "64")).bytes, slice(128, 192), "index × size");
      },
    );
  }

  for (
    const [what, assign, payload, error] of [
      ["a chunk size over 65,536", true, "65537", "PAYLOAD_TOO_LARGE"],
      ["no assigned package", false, "100", "NOT_FOUND"],
    ] as const
  ) {
    Deno.test(
      `emulator answers a chunk request with ${what} by ${error} on v2/fw/error and closes the session on ${name} (ThingsBoard sendOtaPackageError)`,
      async () => {
        await using tb = await emulator();
        const { c, device } = await rawDevice(tb, version);
        await using _c = c;
        if (assign) tb.assignOtaPackage(device, { title: "t", version: "1", data: DATA });
        await c.publish("v2/fw/request/1/chunk/0", payload).catch(() => undefined);
        const m = await c.message("v2/fw/error");
        assert.equal(m.text, error);
        assert.ok(await c.closedWithin());
        assert.equal(tb.isConnected(device), false);
      },
    );
  }
}

// ---------------------------------------------------------------- provisioning (§1.4.9)

const PROFILES = [
  { name: "open", provisionKey: "K1", provisionSecret: "S1", strategy: "allowCreateNewDevices" },
  {
    name: "pre",
    provisionKey: "K2",
    provisionSecret: "S2",
    strategy: "checkPreProvisionedDevices",
  },
] as const;

const NOT_FOUND = '{"errorMsg":"Provision data was not found!","status":"NOT_FOUND"}';
const FAILURE = '{"errorMsg":"Failed to provision device!","status":"FAILURE"}';

interface ProvisionCase {
  what: string;
  request: Record<string, unknown>;
  /** The exact response text, or a check of the parsed response. */
  expect: string | ((r: Record<string, unknown>) => void);
}

const PROVISIONS: ProvisionCase[] = [
  {
    what: "a new device gets a generated access token",
    request: { deviceName: "new-1", provisionDeviceKey: "K1", provisionDeviceSecret: "S1" },
    expect: (r) => {
      assert.deepEqual(Object.keys(r), ["credentialsValue", "credentialsType", "status"]);
      assert.equal(r.status, "SUCCESS");
      assert.equal(r.credentialsType, "ACCESS_TOKEN");
      assert.match(r.credentialsValue as string, /^[A-Za-z0-9]{20}$/);
    },
  },
  {
    what: "a requested access token",
    request: {
      deviceName: "new-2",
      provisionDeviceKey: "K1",
      provisionDeviceSecret: "S1",
      credentialsType: "ACCESS_TOKEN",
      token: "MY_TOKEN",
    },
    expect: '{"credentialsValue":"MY_TOKEN","credentialsType":"ACCESS_TOKEN","status":"SUCCESS"}',
  },
  {
    what: "MQTT_BASIC credentials as an object with userName",
    request: {
      deviceName: "new-3",
      provisionDeviceKey: "K1",
      provisionDeviceSecret: "S1",
      credentialsType: "MQTT_BASIC",
      clientId: "cid",
      username: "usr",
      password: "pwd",
    },
    expect:
      '{"credentialsValue":{"clientId":"cid","userName":"usr","password":"pwd"},"credentialsType":"MQTT_BASIC","status":"SUCCESS"}',
  },
  {
    what: "a wrong secret",
    request: { deviceName: "x", provisionDeviceKey: "K1", provisionDeviceSecret: "nope" },
    expect: NOT_FOUND,
  },
  {
    what: "an unknown key",
    request: { deviceName: "x", provisionDeviceKey: "K9", provisionDeviceSecret: "S1" },
    expect: NOT_FOUND,
  },
  {
    what: "an existing device name (re-provisioning, thingsboard#8385)",
    request: { deviceName: "existing", provisionDeviceKey: "K1", provisionDeviceSecret: "S1" },
    expect: FAILURE,
  },
  {
    what: "a pre-provisioned device of the profile",
    request: { deviceName: "pre-dev", provisionDeviceKey: "K2", provisionDeviceSecret: "S2" },
    expect: '{"credentialsValue":"PRE_TOKEN","credentialsType":"ACCESS_TOKEN","status":"SUCCESS"}',
  },
  {
    what: "a missing pre-provisioned device",
    request: { deviceName: "absent", provisionDeviceKey: "K2", provisionDeviceSecret: "S2" },
    expect: FAILURE,
  },
  {
    what: "no device name (a random 20-character name is generated)",
    request: { provisionDeviceKey: "K1", provisionDeviceSecret: "S1" },
    expect: (r) => assert.equal(r.status, "SUCCESS"),
  },
];

for (const version of LEVELS) {
  const name = mqttName(version);
  Deno.test(
    `emulator answers provisioning requests with ThingsBoard's JSON on ${name} (${PROVISIONS.length} cases, ProvisionDeviceResponseMsg)`,
    async () => {
      await using tb = await emulator();
      for (const p of PROFILES) tb.createProvisionProfile({ ...p });
      tb.createDevice({ name: "existing" });
      tb.createDevice({ name: "pre-dev", accessToken: "PRE_TOKEN", profile: "pre" });
      let i = 0;
      for (const c of PROVISIONS) {
        const connect = i++ % 2 === 0
          ? { clientId: "provision" }
          : { clientId: "x", username: "provision" };
        await using raw = await rawSession(tb, version, connect);
        await raw.subscribe(["/provision/response", 1]);
        const ack = await raw.publish("/provision/request", JSON.stringify(c.request));
        assert.equal(pubackCode(ack), 0, c.what);
        const text = (await raw.message("/provision/response")).text;
        if (typeof c.expect === "string") assert.equal(text, c.expect, c.what);
        else c.expect(JSON.parse(text));
      }
      const names = tb.devices.map((d) => d.name);
      assert.ok(names.some((n) => /^[A-Za-z0-9]{20}$/.test(n)), "random name generated");
      // Provisioned credentials work.
      await (await rawSession(tb, version, { clientId: "a", username: "MY_TOKEN" })).close();
      await (await rawSession(tb, version, { clientId: "cid", username: "usr", password: "pwd" }))
        .close();
    },
  );

  Deno.test(
    `emulator closes a provisioning session after the provision session timeout on ${name} (ThingsBoard closes 60 s after the response)`,
    async () => {
      await using tb = await emulator({ provisionSessionTimeout: 300 });
      tb.createProvisionProfile({ ...PROFILES[0] });
      await using raw = await rawSession(tb, version, { clientId: "provision" });
      const t0 = Date.now();
      await raw.publish(
        "/provision/request",
        '{"deviceName":"p","provisionDeviceKey":"K1","provisionDeviceSecret":"S1"}',
      );
      await raw.message("/provision/response"); // arrives without a subscription as well
      assert.equal(raw.closed, false);
      assert.ok(await raw.closedWithin(2000));
      assert.ok(Date.now() - t0 >= 250);
    },
  );

  for (
    const [what, topic, payload, code] of [
      [
        "a request without provisionDeviceSecret",
        "/provision/request",
        '{"provisionDeviceKey":"K1"}',
        0x83,
      ],
      ["a PUBLISH to another topic", "v1/devices/me/telemetry", '{"a":1}', 0x90],
    ] as const
  ) {
    Deno.test(
      `emulator answers ${what} in a provisioning session with ${
        version === 5 ? `PUBACK 0x${code.toString(16)} + DISCONNECT` : "a close"
      } on ${name} (ThingsBoard processProvisionSessionMsg)`,
      async () => {
        await using tb = await emulator();
        tb.createProvisionProfile({ ...PROFILES[0] });
        await using raw = await Raw.open(tb, version);
        await raw.connect({ clientId: "provision" });
        const ack = await raw.publish(topic, payload).catch(() => undefined);
        if (version === 5) {
          assert.equal(pubackCode(ack), code);
          assert.equal((await raw.nextOf("disconnect")).reasonCode, code);
        }
        assert.ok(await raw.closedWithin());
      },
    );
  }
}
