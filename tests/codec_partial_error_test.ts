/**
 * A chunk holding valid packets and then a malformed one: the error carries
 * the packets decoded before the fault, in order, on every engine. (ThingsBoard
 * answers a bad token on MQTT 5 with CONNACK 0x86 and then a DISCONNECT with
 * the same code, which DISCONNECT may not carry.)
 */
import assert from "node:assert/strict";
import { MqttDecodeError } from "../core/codec/mod.ts";
import { engineLabel, engines } from "./_engines.ts";

const CONNACK_86 = [0x20, 0x03, 0x00, 0x86, 0x00];
const PUBACK_7 = [0x40, 0x02, 0x00, 0x07];
const DISCONNECT_86 = [0xe0, 0x02, 0x86, 0x00];
const PUBLISH_QOS3 = [0x36, 0x04, 0x00, 0x01, 0x74, 0x00];

for (const engine of engines) {
  Deno.test(`${engineLabel(engine)} decoder: MqttDecodeError.packets holds what came before the fault`, () => {
    for (
      const [bad, code] of [
        [DISCONNECT_86, "INVALID_REASON_CODE"],
        [PUBLISH_QOS3, "INVALID_QOS"],
      ] as const
    ) {
      const decoder = engine.createDecoder({ protocolVersion: 5 });
      let caught: unknown;
      try {
        decoder.push(new Uint8Array([...CONNACK_86, ...PUBACK_7, ...bad]));
      } catch (e) {
        caught = e;
      }
      assert.ok(caught instanceof MqttDecodeError, String(caught));
      assert.equal(caught.code, code);
      assert.deepEqual(caught.packets.map((p) => p.type), ["connack", "puback"]);
      assert.equal(caught.offset >= CONNACK_86.length + PUBACK_7.length, true);
    }
  });
}
