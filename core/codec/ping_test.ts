import { testRejects, testRoundTrips } from "./_test_vectors.ts";

testRoundTrips("encodePing() and decodePing() handle", [
  { name: "PINGREQ", version: 4, packet: { type: "pingreq" }, bytes: "c0 00" },
  { name: "PINGRESP", version: 3, packet: { type: "pingresp" }, bytes: "d0 00" },
  { name: "PINGREQ", version: 5, packet: { type: "pingreq" }, bytes: "c0 00" },
]);

testRejects("decodePing() rejects", [
  {
    name: "a non-empty PINGREQ",
    version: 4,
    bytes: "c0 01 00",
    code: "LENGTH_MISMATCH",
    offset: 2,
  },
  {
    name: "PINGRESP header flags [MQTT-2.2.2-2]",
    version: 5,
    bytes: "d1 00",
    code: "INVALID_HEADER_FLAGS",
    offset: 0,
  },
]);
