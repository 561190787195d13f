/**
 * Client-side RPC (device → server): registered handlers, `{"error":...}`
 * replies, the `{"error":"timeout"}` after `clientRpcTimeout`, and the
 * `getSessionLimits` reply the transport itself gives.
 *
 * @module
 */

import { type JNode, parseJson, quote, stringify } from "./_json.ts";
import type { Core } from "./core.ts";
import type { Session } from "./session.ts";
import { FAMILY_TOPICS } from "./topics.ts";
import type { JsonValue } from "./types.ts";

/** `getSessionLimits` reply (`SessionLimits` / `GatewaySessionLimits` as Jackson writes them). */
export function sessionLimits(core: Core, gateway: boolean): string {
  const r = core.options.rateLimits;
  const limit = (v: string | null) => v === null ? "null" : quote(v);
  const rates = `{"messages":${limit(r.messages)},"telemetryMessages":${
    limit(r.telemetryMessages)
  },"telemetryDataPoints":${limit(r.telemetryDataPoints)}}`;
  return `{"maxPayloadSize":${core.options.maxPayloadSize},"maxInflightMessages":${core.options.maxInflightMessages},"rateLimits":${rates}${
    gateway ? `,"gatewayRateLimits":${rates}` : ""
  }}`;
}

/** Runs a client-side RPC through the registered handler, or times it out. */
export function runClientRpc(
  core: Core,
  session: Session,
  requestId: number,
  method: string,
  params: JNode,
): void {
  const record = session.record!;
  let answered = false;
  const answer = (payload: string) => {
    if (answered) return;
    answered = true;
    core.clearTimer(timer);
    if (session.state === "closed") return;
    session.publish(FAMILY_TOPICS[session.clientRpcFamily].rpcResponse + requestId, payload);
    core.emit({ type: "clientRpcResponse", requestId, payload }, session);
  };
  const timer = core.setTimer(
    () => answer('{"error":"timeout"}'),
    core.options.clientRpcTimeout,
    session,
  );
  const handler = core.clientRpcHandlers.get(method) ?? core.clientRpcHandlers.get(undefined);
  if (!handler) return;
  const fail = (e: unknown) =>
    answer(`{"error":${quote(e instanceof Error ? e.message : String(e))}}`);
  const reply = (v: unknown) => {
    if (v === undefined) return;
    try {
      answer(stringify(parseJson(JSON.stringify(v))));
    } catch (e) {
      fail(e);
    }
  };
  try {
    const request = {
      device: record.device.name,
      requestId,
      method,
      params: JSON.parse(stringify(params)) as JsonValue,
    };
    const result = handler(request);
    if (result instanceof Promise) result.then(reply, fail);
    else reply(result);
  } catch (e) {
    fail(e);
  }
}
