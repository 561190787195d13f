/**
 * Answers server-side RPC event-driven: the handler's return value (or
 * Promise) is the reply; a thrown error replies `{"error": message}`.
 * Exits after `--requests=N` requests (default 1).
 *
 * Emulator:  deno run --allow-net=127.0.0.1 examples/rpc_server_side.ts
 *   (the example plays the server and sends the N RPCs itself)
 * ThingsBoard: add TB_HOST/TB_ACCESS_TOKEN and the matching --allow-net/--allow-env
 * (see send_telemetry.ts), then send an RPC from a dashboard widget or the REST API.
 *
 * @module
 */
import { TBDeviceMqttClient } from "../mod.ts";
import { intFlag, openTarget } from "./_target.ts";

const wanted = intFlag("requests", 1);
await using target = await openTarget();
await using client = new TBDeviceMqttClient({
  host: target.host,
  port: target.port,
  accessToken: target.accessToken,
});
let handled = 0;
const done = Promise.withResolvers<void>();
let valveOpen = false;
client.setServerSideRpcRequestHandler(({ id, method, params }) => {
  console.log(`RPC ${id}: ${method} ${JSON.stringify(params)}`);
  if (++handled >= wanted) setTimeout(done.resolve, 100); // let the reply go out first
  switch (method) {
    case "getValve":
      return { open: valveOpen };
    case "setValve":
      valveOpen = Boolean((params as { open?: unknown } | null)?.open);
      return { open: valveOpen };
    default:
      throw new Error(`Unknown method ${method}`);
  }
});
await client.connect();
console.log(`Waiting for ${wanted} RPC request(s)...`);

if (target.emulator) {
  await target.emulator.waitFor(
    "subscribe",
    (e) => e.topicFilter === "v1/devices/me/rpc/request/+",
    { since: 0 },
  );
  for (let i = 0; i < wanted; i++) {
    const params = { open: i % 2 === 0 };
    const reply = await target.emulator.sendRpc("example-device", "setValve", params);
    console.log("server got reply:", JSON.stringify(reply));
  }
}
await done.promise;
