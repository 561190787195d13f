import assert from "node:assert/strict";
import {
  isValidSharedFilter,
  isValidTopicFilter,
  isValidTopicName,
  topicMatches,
} from "./topic.ts";

const names: [string, boolean, string][] = [
  ["v1/devices/me/telemetry", true, "a plain name"],
  ["/", true, "a lone separator"],
  ["a//b", true, "an empty level"],
  ["é/😀", true, "non-ASCII characters"],
  ["$SYS/x", true, "a $ name"],
  ["", false, "an empty name [MQTT-4.7.3-1]"],
  ["a/+", false, "a + wildcard [MQTT-4.7.1-1]"],
  ["#", false, "a # wildcard [MQTT-4.7.1-1]"],
  ["a\0b", false, "U+0000 [MQTT-4.7.3-2]"],
  ["a\udc00", false, "a lone low surrogate [MQTT-1.5.4-1]"],
  ["a\ud800", false, "a lone high surrogate [MQTT-1.5.4-1]"],
  ["x".repeat(65_535), true, "65535 bytes [MQTT-4.7.3-3]"],
  ["x".repeat(65_536), false, "65536 bytes [MQTT-4.7.3-3]"],
];
for (const [s, ok, why] of names) {
  Deno.test(`isValidTopicName() ${ok ? "accepts" : "rejects"} ${why}`, () => {
    assert.equal(isValidTopicName(s), ok);
  });
}

const filters: [string, boolean, string][] = [
  ["#", true, "a lone #"],
  ["a/#", true, "# as the last level"],
  ["+", true, "a lone +"],
  ["+/+", true, "two + levels"],
  ["a/+/b", true, "+ in the middle"],
  ["/+", true, "+ after a leading separator"],
  ["+/a/#", true, "+ and #"],
  ["", false, "an empty filter [MQTT-4.7.3-1]"],
  ["a#", false, "# inside a level [MQTT-4.7.1-2]"],
  ["a/#/b", false, "# not last [MQTT-4.7.1-2]"],
  ["##", false, "two # [MQTT-4.7.1-2]"],
  ["a+", false, "+ after a character [MQTT-4.7.1-3]"],
  ["+a", false, "+ before a character [MQTT-4.7.1-3]"],
  ["a/b+/c", false, "+ inside a middle level [MQTT-4.7.1-3]"],
  ["a\0", false, "U+0000 [MQTT-4.7.3-2]"],
  ["a\ud800/b", false, "a lone surrogate [MQTT-1.5.4-1]"],
];
for (const [s, ok, why] of filters) {
  Deno.test(`isValidTopicFilter() ${ok ? "accepts" : "rejects"} ${why}`, () => {
    assert.equal(isValidTopicFilter(s), ok);
  });
}

Deno.test("isValidSharedFilter() checks the share name and filter [MQTT-4.8.2-1] [MQTT-4.8.2-2]", () => {
  assert.equal(isValidSharedFilter("$share/g/a/#"), true);
  assert.equal(isValidSharedFilter("plain/topic"), true);
  assert.equal(isValidSharedFilter("$share//a"), false);
  assert.equal(isValidSharedFilter("$share/g"), false);
  assert.equal(isValidSharedFilter("$share/g/"), false);
  assert.equal(isValidSharedFilter("$share/+/a"), false);
  assert.equal(isValidSharedFilter("$share/#/a"), false);
});

const matches: [string, string, boolean][] = [
  ["a/b", "a/b", true],
  ["a/b", "a/c", false],
  ["a/b", "a/b/c", false],
  ["a/b/c", "a/b", false],
  ["a/+", "a/b", true],
  ["a/+", "a/", true],
  ["a/+", "a/b/c", false],
  ["+/+", "/a", true],
  ["+", "/a", false],
  ["a/#", "a", true],
  ["a/#", "a/b/c", true],
  ["a/#", "ab", false],
  ["#", "a/b", true],
  ["+/#", "a", true],
  ["sport/tennis/+", "sport/tennis/player1", true],
  ["sport/+/player1", "sport/tennis/player1", true],
  ["#", "$SYS/uptime", false],
  ["+/uptime", "$SYS/uptime", false],
  ["$SYS/#", "$SYS/uptime", true],
  ["$share/g/a/+", "a/b", true],
  ["$share/g/a/+", "b/b", false],
  ["v1/devices/me/rpc/request/+", "v1/devices/me/rpc/request/42", true],
  ["v1/devices/me/attributes/response/+", "v1/devices/me/attributes", false],
];
for (const [filter, name, ok] of matches) {
  Deno.test(`topicMatches() ${ok ? "matches" : "does not match"} "${name}" with "${filter}"`, () => {
    assert.equal(topicMatches(filter, name), ok);
  });
}
