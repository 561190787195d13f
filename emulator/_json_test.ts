import assert from "node:assert/strict";
import { parseJson, quote, stringify } from "./_json.ts";

Deno.test("parseJson() accepts what Gson's lenient parser accepts", () => {
  const table: [string, string][] = [
    ['{"a":1}', '{"a":1}'],
    ["{a:1}", '{"a":1}'],
    ["{'a':'x'}", '{"a":"x"}'],
    ['{"a"=1;"b"=>2}', '{"a":1,"b":2}'],
    ["{a:hello}", '{"a":"hello"}'],
    ["{a:TRUE,b:nULL}", '{"a":true,"b":null}'],
    ["[1,,2]", "[1,null,2]"],
    ["[1,]", "[1,null]"],
    ['{"a":1} // comment', '{"a":1}'],
    ['# c\n{/* x */"a":01}', '{"a":"01"}'],
    ['{"a":1,"a":2,"b":3}', '{"a":2,"b":3}'],
    ['{"b":1,"2":2,"1":3}', '{"b":1,"2":2,"1":3}'],
    ["", "null"],
    ["  ", "null"],
    ['"\\u00e9\\n"', '"é\\n"'],
    ["1.50", "1.50"],
  ];
  for (const [text, out] of table) assert.equal(stringify(parseJson(text)), out, text);
});

Deno.test("parseJson() rejects what Gson rejects", () => {
  for (
    const text of ["{", '{"a":1', "{not json", "not json", '{"a":1} x', "[1 2]", '"\\x"', "{:1}"]
  ) {
    assert.throws(() => parseJson(text), SyntaxError, text);
  }
});

Deno.test("quote() escapes like Gson's JsonWriter", () => {
  assert.equal(quote('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(quote("\u0001\t\u2028<"), '"\\u0001\\t\\u2028<"');
});
