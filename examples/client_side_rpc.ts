/**
 * Calls an RPC method on the server (client-side RPC) and prints the answer.
 * ThingsBoard answers from the rule chain ("RPC call reply" node), or with
 * `{"error":"timeout"}` after 60 s.
 *
 * Emulator:  deno run --allow-net=127.0.0.1 examples/client_side_rpc.ts
 * ThingsBoard: add TB_HOST/TB_ACCESS_TOKEN and the matching --allow-net/--allow-env
 * (see send_telemetry.ts); the rule chain must answer `getCurrentTime`.
 *
 * @module
 */
import { RpcError, TBDeviceMqttClient } from "../mod.ts";
import { openTarget } from "./_target.ts";

await using target = await openTarget();
target.emulator?.onClientRpc("getCurrentTime", () => ({ time: Date.now() }));

await using client = new TBDeviceMqttClient({
  host: target.host,
  port: target.port,
  accessToken: target.accessToken,
});
await client.connect();
try {
  const answer = await client.sendRpcCall("getCurrentTime", {}, { timeout: 65_000 });
  console.log("getCurrentTime answered:", JSON.stringify(answer));
} catch (error) {
  // `{"error": …}` from the server, e.g. "timeout" when no rule chain replied.
  if (!(error instanceof RpcError)) throw error;
  console.log(`No answer: ${error.message}`);
}

// ThingsBoard itself answers getSessionLimits; the client asks it on connect.
console.log("session limits:", JSON.stringify(client.sessionLimits));
