/**
 * Fidelity of attribute requests/responses and shared-attribute pushes to ThingsBoard
 * (reference §1.4.3, §1.4.4; responses without a subscription, §1.3).
 */

import assert from "node:assert/strict";
import type { Emulator } from "../emulator/mod.ts";
import {
  emulator,
  Inbox,
  jsConnect,
  json,
  LEVELS,
  mqttName,
  pubackCode,
  type Raw,
  rawDevice,
} from "./_emulator_fidelity.ts";

interface RequestCase {
  what: string;
  request: string;
  response: unknown;
}

// Stored: client {a:1, b:"x", cfg:{mode:"eco"}}, shared {s1:21 (sent as "21"), s2:true}.
const REQUESTS: RequestCase[] = [
  {
    what: "comma-separated keys of both scopes",
    request: '{"clientKeys":"a,b","sharedKeys":"s1"}',
    response: { client: { a: 1, b: "x" }, shared: { s1: 21 } },
  },
  {
    what: 'keys are not trimmed ("a, b" asks for " b")',
    request: '{"clientKeys":"a, b"}',
    response: { client: { a: 1 } },
  },
  {
    what: "{} returns all client and all shared attributes",
    request: "{}",
    response: { client: { a: 1, b: "x", cfg: { mode: "eco" } }, shared: { s1: 21, s2: true } },
  },
  {
    what: "only clientKeys: the shared scope is omitted",
    request: '{"clientKeys":"cfg"}',
    response: { client: { cfg: { mode: "eco" } } },
  },
  {
    what: "only sharedKeys: the client scope is omitted",
    request: '{"sharedKeys":"s2,s1"}',
    response: { shared: { s1: 21, s2: true } },
  },
  {
    what: "missing keys are absent, nothing found is {}",
    request: '{"clientKeys":"nope","sharedKeys":"zip"}',
    response: {},
  },
  {
    what: "a one-element JSON array works like its string",
    request: '{"sharedKeys":["s1"]}',
    response: { shared: { s1: 21 } },
  },
  {
    what: "a client key is not looked up among shared attributes",
    request: '{"clientKeys":"s1"}',
    response: {},
  },
];

async function seed(tb: Emulator, c: Raw, device: string): Promise<void> {
  assert.equal(
    pubackCode(
      await c.publish("v1/devices/me/attributes", '{"a":1,"b":"x","cfg":{"mode":"eco"}}'),
    ),
    0,
  );
  tb.setSharedAttributes(device, { s1: "21", s2: true });
}

for (const version of LEVELS) {
  const name = mqttName(version);
  for (
    const [family, req, res] of [
      ["v1", "v1/devices/me/attributes/request/", "v1/devices/me/attributes/response/"],
      ["v2", "v2/a/req/", "v2/a/res/"],
      ["v2 JSON", "v2/a/req/j/", "v2/a/res/j/"],
    ] as const
  ) {
    Deno.test(
      `emulator answers ${family} attribute requests without a subscription on ${name} like ThingsBoard (${REQUESTS.length} cases)`,
      async () => {
        await using tb = await emulator();
        const { c, device } = await rawDevice(tb, version);
        await using _c = c;
        await seed(tb, c, device.name);
        let id = 40;
        for (const r of REQUESTS) {
          id++;
          assert.equal(pubackCode(await c.publish(req + id, r.request)), 0, r.what);
          const msg = await c.message(res + id);
          assert.deepEqual(json(msg), r.response, r.what);
        }
        await c.nothing((p) => p.cmd === "publish");
      },
    );
  }

  Deno.test(
    `emulator keeps stored types in attribute responses on ${name} (ThingsBoard toJson(GetAttributeResponseMsg))`,
    async () => {
      await using tb = await emulator();
      const { c, device } = await rawDevice(tb, version);
      await using _c = c;
      tb.setSharedAttributes(device, { num: "7", dbl: 2.5, txt: "7a", obj: { k: [1] } });
      await c.publish("v1/devices/me/attributes/request/1", '{"sharedKeys":"num,dbl,txt,obj"}');
      const msg = await c.message("v1/devices/me/attributes/response/1");
      assert.equal(msg.text, '{"shared":{"num":7,"dbl":2.5,"txt":"7a","obj":{"k":[1]}}}');
    },
  );

  Deno.test(
    `emulator pushes shared attributes as a flat object and deletions as {"deleted":[...]} only to subscribed sessions on ${name} (ThingsBoard AttributeUpdateNotificationMsg)`,
    async () => {
      await using tb = await emulator();
      const { c, device } = await rawDevice(tb, version);
      await using _c = c;
      tb.setSharedAttributes(device, { early: 1 });
      await c.nothing((p) => p.cmd === "publish");
      assert.deepEqual(await c.subscribe(["v1/devices/me/attributes", 1]), [1]);
      await c.nothing((p) => p.cmd === "publish", 100); // no replay of existing attributes
      tb.setSharedAttributes(device, { target: 22.5, mode: "auto", skip: null });
      const push = await c.message("v1/devices/me/attributes");
      assert.deepEqual(json(push), { target: 22.5, mode: "auto" });
      tb.deleteSharedAttributes(device, ["mode", "early"]);
      assert.deepEqual(json(await c.message("v1/devices/me/attributes")), {
        deleted: ["mode", "early"],
      });
      await c.unsubscribe("v1/devices/me/attributes");
      tb.setSharedAttributes(device, { after: 1 });
      await c.nothing((p) => p.cmd === "publish");
    },
  );

  for (
    const [filter, topic] of [["v2/a", "v2/a"], ["v2/a/j", "v2/a/j"]] as const
  ) {
    Deno.test(
      `emulator pushes shared attributes on ${topic} to a ${filter} subscriber on ${name} (ThingsBoard attrSubTopicType)`,
      async () => {
        await using tb = await emulator();
        const { c, device } = await rawDevice(tb, version);
        await using _c = c;
        await c.subscribe([filter, 1]);
        tb.setSharedAttributes(device, { v: 2 });
        const push = await c.message(/.*/);
        assert.equal(push.topic, topic);
        assert.deepEqual(json(push), { v: 2 });
      },
    );
  }
}

Deno.test(
  "emulator attribute response reaches an MQTT.js client that never subscribed (thingsboard#11567)",
  async () => {
    await using tb = await emulator();
    const device = tb.createDevice({ name: "d", accessToken: "TOK" });
    tb.setSharedAttributes(device, { fw_version: "1.0" });
    const client = await jsConnect(tb, 4, { username: "TOK" });
    try {
      const inbox = new Inbox(client);
      await client.publishAsync(
        "v1/devices/me/attributes/request/1",
        '{"sharedKeys":"fw_version"}',
        { qos: 1 },
      );
      const msg = await inbox.next("v1/devices/me/attributes/response/1");
      assert.equal(msg.qos, 1);
      // "1.0" was cast to DOUBLE (type_cast_enabled) and is written back as Java's 1.0.
      assert.equal(msg.text, '{"shared":{"fw_version":1.0}}');
    } finally {
      await client.endAsync();
    }
  },
);
