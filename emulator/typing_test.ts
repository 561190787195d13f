import assert from "node:assert/strict";
import { parseJson } from "./_json.ts";
import {
  isParsable,
  javaDouble,
  parseAttributes,
  parseTelemetry,
  typeNumber,
  typeValue,
  writeObject,
} from "./typing.ts";

Deno.test("typeValue() types values like ThingsBoard's JsonConverter", () => {
  const table: [string, string, unknown, string][] = [
    // JSON text, type, value, Gson output
    ["true", "BOOLEAN", true, "true"],
    ["21", "LONG", 21, "21"],
    ["-0", "LONG", 0, "0"],
    ["21.0", "DOUBLE", 21, "21.0"],
    ["21.50", "DOUBLE", 21.5, "21.5"],
    ["1e3", "LONG", 1000, "1000"],
    ["1.5e3", "LONG", 1500, "1500"],
    ["1E-2", "DOUBLE", 0.01, "0.01"],
    ["1.0E7", "LONG", 10000000, "10000000"],
    ["12345678.5", "DOUBLE", 12345678.5, "1.23456785E7"],
    ["0.0001", "DOUBLE", 0.0001, "1.0E-4"],
    ["9223372036854775807", "LONG", 9223372036854775807n, "9223372036854775807"],
    ["9223372036854775808", "STRING", "9223372036854775808", '"9223372036854775808"'],
    ["0.12345678901234567", "STRING", "0.12345678901234567", '"0.12345678901234567"'],
    ['"21"', "LONG", 21, "21"],
    ['"007"', "LONG", 7, "7"],
    ['"21.5"', "DOUBLE", 21.5, "21.5"],
    ['"-.5"', "DOUBLE", -0.5, "-0.5"],
    ['"1."', "STRING", "1.", '"1."'],
    ['"1e5"', "STRING", "1e5", '"1e5"'],
    ['"+1"', "STRING", "+1", '"+1"'],
    ['" 1"', "STRING", " 1", '" 1"'],
    ['"on"', "STRING", "on", '"on"'],
    ['{"a":1.0,"b":[1e5]}', "JSON", { a: 1, b: [100000] }, '{"a":1.0,"b":[1e5]}'],
    ["[1,2]", "JSON", [1, 2], "[1,2]"],
  ];
  for (const [text, type, value, out] of table) {
    const typed = typeValue(parseJson(text));
    assert.ok(typed, text);
    assert.equal(typed.type, type, text);
    assert.deepEqual(typed.value, value, text);
    assert.equal(typed.text, out, text);
  }
  assert.equal(typeValue(parseJson("null")), undefined);
});

Deno.test("isParsable() follows commons-lang3 NumberUtils.isParsable", () => {
  for (const s of ["1", "-1", "1.5", ".5", "-.5", "007", "1.50"]) assert.ok(isParsable(s), s);
  for (const s of ["", "-", "1.", "+1", "1e5", "0x10", " 1", "1.2.3", "NaN"]) {
    assert.ok(!isParsable(s), s);
  }
});

Deno.test("javaDouble() writes Double.toString", () => {
  assert.equal(javaDouble(0), "0.0");
  assert.equal(javaDouble(-0), "-0.0");
  assert.equal(javaDouble(1.5), "1.5");
  assert.equal(javaDouble(0.001), "0.001");
  assert.equal(javaDouble(1234567.5), "1234567.5");
  assert.equal(javaDouble(12345678.9), "1.23456789E7");
  assert.equal(javaDouble(1e-5), "1.0E-5");
  assert.equal(javaDouble(-2.5e-7), "-2.5E-7");
  assert.equal(typeNumber("1e400").type, "STRING");
});

Deno.test("parseTelemetry() needs both ts and values for a timestamped group", () => {
  const now = 1000;
  const [a] = parseTelemetry(parseJson('{"ts":5,"values":{"t":1}}'), now);
  assert.equal(a?.ts, 5);
  assert.deepEqual([...a!.values.keys()], ["t"]);
  const [b] = parseTelemetry(parseJson('{"ts":5,"t":1}'), now);
  assert.equal(b?.ts, now);
  assert.deepEqual([...b!.values.keys()], ["ts", "t"]);
  const [c] = parseTelemetry(parseJson('{"values":{"t":1}}'), now);
  assert.equal(c?.values.get("values")?.type, "JSON");
  const groups = parseTelemetry(parseJson('[{"ts":1,"values":{"a":1}},{"b":null,"c":"x"}]'), now);
  assert.deepEqual(groups.map((g) => [g.ts, [...g.values.keys()]]), [[1, ["a"]], [now, ["c"]]]);
  for (const bad of ["1", '"x"', "[1]", "null", "", '{"ts":1,"values":5}', "[[]]"]) {
    assert.throws(() => parseTelemetry(parseJson(bad), now), SyntaxError, bad);
  }
});

Deno.test("parseAttributes() accepts only an object and drops nulls", () => {
  const values = parseAttributes(parseJson('{"a":null,"b":"2","c":false}'));
  assert.equal(writeObject(values), '{"b":2,"c":false}');
  assert.throws(() => parseAttributes(parseJson('[{"a":1}]')), SyntaxError);
});
