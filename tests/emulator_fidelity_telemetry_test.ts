/**
 * Fidelity of telemetry and client-attribute typing to ThingsBoard's `JsonConverter`
 * (reference §1.4.1, §1.4.2), on the v1 and the v2 short topics (§1.3).
 */

import assert from "node:assert/strict";
import type { KvEntry } from "../emulator/mod.ts";
import { emulator, LEVELS, mqttName, pubackCode, rawDevice } from "./_emulator_fidelity.ts";

/** What a stored series should look like: key → [value, type, ts ("now" = server time)][]. */
type Expect = Record<string, [unknown, KvEntry["type"], number | "now"][]>;

interface TelemetryCase {
  what: string;
  payload: string;
  expect: Expect;
}

const TS = 1_700_000_000_000;

const TELEMETRY: TelemetryCase[] = [
  {
    what: "a flat object gets server time",
    payload: '{"temp":21,"on":true}',
    expect: { temp: [[21, "LONG", "now"]], on: [[true, "BOOLEAN", "now"]] },
  },
  {
    what: "{ts, values} uses ts",
    payload: `{"ts":${TS},"values":{"temp":22}}`,
    expect: { temp: [[22, "LONG", TS]] },
  },
  {
    what: "only ts is stored as an ordinary key named ts",
    payload: `{"ts":${TS},"temp":23}`,
    expect: { ts: [[TS, "LONG", "now"]], temp: [[23, "LONG", "now"]] },
  },
  {
    what: "only values is stored as a JSON key named values",
    payload: '{"values":{"temp":24}}',
    expect: { values: [[{ temp: 24 }, "JSON", "now"]] },
  },
  {
    what: "an array mixes both shapes, one ts-group each",
    payload: `[{"ts":${TS},"values":{"a":1}},{"b":2},{"ts":${TS + 1},"values":{"a":3}}]`,
    expect: { a: [[1, "LONG", TS], [3, "LONG", TS + 1]], b: [[2, "LONG", "now"]] },
  },
  {
    what: "null values are skipped",
    payload: '{"gone":null,"kept":1}',
    expect: { kept: [[1, "LONG", "now"]] },
  },
  {
    what: "numeric strings are cast to LONG/DOUBLE",
    payload: '{"l":"42","d":"2.5","neg":"-7","s":"12a","e":""}',
    expect: {
      l: [[42, "LONG", "now"]],
      d: [[2.5, "DOUBLE", "now"]],
      neg: [[-7, "LONG", "now"]],
      s: [["12a", "STRING", "now"]],
      e: [["", "STRING", "now"]],
    },
  },
  {
    what: "numbers with a dot are DOUBLE, integral numbers LONG",
    payload: '{"a":1.0,"b":1,"c":-3.25,"d":9007199254740993}',
    expect: {
      a: [[1, "DOUBLE", "now"]],
      b: [[1, "LONG", "now"]],
      c: [[-3.25, "DOUBLE", "now"]],
      d: [[9007199254740993n, "LONG", "now"]],
    },
  },
  {
    what: "integers beyond a Java long become strings (type cast enabled)",
    payload: '{"big":12345678901234567890,"max":9223372036854775807}',
    expect: {
      big: [["12345678901234567890", "STRING", "now"]],
      max: [[9223372036854775807n, "LONG", "now"]],
    },
  },
  {
    what: "objects and arrays are JSON values",
    payload: '{"o":{"x":[1,"y"]},"arr":[1,2]}',
    expect: { o: [[{ x: [1, "y"] }, "JSON", "now"]], arr: [[[1, 2], "JSON", "now"]] },
  },
  {
    what: "an empty object stores nothing",
    payload: "{}",
    expect: {},
  },
];

function check(actual: Record<string, KvEntry[]>, expect: Expect, before: number, after: number) {
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(expect).sort());
  for (const [key, points] of Object.entries(expect)) {
    const got = actual[key]!;
    assert.equal(got.length, points.length, `points of ${key}`);
    points.forEach(([value, type, ts], i) => {
      assert.deepEqual(got[i]!.value, value, `value of ${key}[${i}]`);
      assert.equal(got[i]!.type, type, `type of ${key}[${i}]`);
      if (ts === "now") {
        assert.ok(got[i]!.ts >= before && got[i]!.ts <= after, `server time of ${key}[${i}]`);
      } else assert.equal(got[i]!.ts, ts, `ts of ${key}[${i}]`);
    });
  }
}

for (const version of LEVELS) {
  for (const topic of ["v1/devices/me/telemetry", "v2/t", "v2/t/j"]) {
    Deno.test(
      `emulator stores telemetry on ${topic} over ${
        mqttName(version)
      } like ThingsBoard JsonConverter (${TELEMETRY.length} shapes)`,
      async () => {
        await using tb = await emulator();
        for (const c of TELEMETRY) {
          const { c: raw, device } = await rawDevice(tb, version);
          const before = Date.now();
          assert.equal(pubackCode(await raw.publish(topic, c.payload)), 0, c.what);
          const after = Date.now();
          try {
            check(tb.getTelemetry(device), c.expect, before, after);
          } catch (e) {
            throw new Error(`${c.what}: ${(e as Error).message}`);
          } finally {
            await raw.close();
          }
        }
      },
    );
  }

  for (const topic of ["v1/devices/me/attributes", "v2/a", "v2/a/j"]) {
    Deno.test(
      `emulator stores client attributes on ${topic} over ${
        mqttName(version)
      } with telemetry typing, nulls skipped (ThingsBoard convertToAttributesProto)`,
      async () => {
        await using tb = await emulator();
        const { c, device } = await rawDevice(tb, version);
        await using _c = c;
        const payload = '{"fw":"1.2","n":"3","f":1.5,"b":false,"j":{"x":1},"nul":null,"t":"on"}';
        assert.equal(pubackCode(await c.publish(topic, payload)), 0);
        const entries = tb.getAttributeEntries(device, "client");
        const typed = Object.fromEntries(
          Object.entries(entries).map(([k, e]) => [k, [e.value, e.type]]),
        );
        assert.deepEqual(typed, {
          fw: [1.2, "DOUBLE"],
          n: [3, "LONG"],
          f: [1.5, "DOUBLE"],
          b: [false, "BOOLEAN"],
          j: [{ x: 1 }, "JSON"],
          t: ["on", "STRING"],
        });
        // A later post updates single keys and leaves the others (attributes are merged).
        assert.equal(pubackCode(await c.publish(topic, '{"n":4}')), 0);
        assert.equal(tb.getClientAttributes(device).n, 4);
        assert.equal(tb.getClientAttributes(device).t, "on");
        // Client attributes are never pushed back to the device (§1.4.4).
        await c.subscribe(["v1/devices/me/attributes", 1]);
        assert.equal(pubackCode(await c.publish(topic, '{"again":1}')), 0);
        await c.nothing((p) => p.cmd === "publish");
        assert.deepEqual(tb.getTelemetry(device), {}, "attributes are not telemetry");
      },
    );
  }
}
