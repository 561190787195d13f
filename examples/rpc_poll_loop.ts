/**
 * Server-side RPC in a poll loop, for ports of MicroPython code that calls
 * `check_for_msg()` in its main loop: with `dispatch: "poll"` messages wait
 * in a queue until `checkForMsg()` runs their callbacks. Exits after
 * `--requests=N` requests (default 1).
 *
 * Emulator:  deno run --allow-net=127.0.0.1 examples/rpc_poll_loop.ts
 *   (the example plays the server and sends the N RPCs itself)
 * ThingsBoard: add TB_HOST/TB_ACCESS_TOKEN and the matching --allow-net/--allow-env
 * (see send_telemetry.ts), then send an RPC from ThingsBoard.
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
  dispatch: "poll",
});
let handled = 0;
client.setServerSideRpcRequestHandler(({ method }) => {
  handled++;
  return method === "ping" ? "pong" : { error: `unsupported: ${method}` };
});
await client.connect();
console.log(`Polling for ${wanted} RPC request(s)...`);

const emulator = target.emulator;
const reply = emulator
  ? (async () => {
    await emulator.waitFor(
      "subscribe",
      (e) => e.topicFilter.startsWith("v1/devices/me/rpc/request"),
      { since: 0 },
    );
    const replies = [];
    for (let i = 0; i < wanted; i++) replies.push(await emulator.sendRpc("example-device", "ping"));
    return replies;
  })()
  : undefined;

// The device's main loop: do some work, then look for messages.
while (handled < wanted) {
  await new Promise((r) => setTimeout(r, 50)); // ... read sensors, drive outputs ...
  const n = client.checkForMsg();
  if (n > 0) console.log(`checkForMsg() dispatched ${n} message(s)`);
}
if (reply) console.log("server got replies:", JSON.stringify(await reply));
