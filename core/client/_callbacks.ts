/**
 * Running the user's callbacks safely: attribute and event callbacks whose
 * errors must not reach the read loop, and server-side RPC handlers whose
 * result is sent back. Shared by the device client and the gateway client.
 * Private.
 *
 * @module
 */

import type { Logger } from "../mqtt/mod.ts";
import { errorReply } from "./rpc.ts";

/** Where a handler's answer goes, and how failures are told. */
export interface RpcReplyTarget {
  /** Sends the reply; rejects when it cannot be sent. */
  reply(value: unknown): Promise<void>;
  /** Reports a reply that could not be sent (the client's `error` event). */
  report(error: Error): void;
  logger: Logger;
  /** What the log lines call the request ("RPC", "Gateway RPC"). */
  name: string;
  /** Log fields naming the request (id, method, device). */
  fields: Record<string, unknown>;
}

/**
 * Calls `handler` and replies with its value or resolved value; `undefined`
 * sends nothing (the reply may follow later). A throw or rejection replies
 * `{"error": message}`; a value JSON cannot carry is reported, and the
 * server still gets an error reply rather than silence.
 *
 * @param handler The user's handler.
 * @param request What it is called with.
 * @param target Reply channel and diagnostics.
 */
export function runRpcHandler<R>(
  handler: (request: R) => unknown,
  request: R,
  target: RpcReplyTarget,
): void {
  const send = (value: unknown) => {
    if (value === undefined) return;
    target.reply(value).catch((error: Error) => {
      target.logger.error(`Cannot send ${target.name} reply`, {
        ...target.fields,
        error: error.message,
      });
      target.report(error);
      if (error instanceof TypeError || error instanceof RangeError) {
        // The handler returned something JSON cannot carry: tell the server.
        target.reply(errorReply(error)).catch(() => {});
      }
    });
  };
  const fail = (error: unknown) => {
    target.logger.warn(`${target.name} handler failed; replying with an error`, {
      ...target.fields,
      error: error instanceof Error ? error.message : String(error),
    });
    send(errorReply(error));
  };
  let result: unknown;
  try {
    result = handler(request);
  } catch (error) {
    return fail(error);
  }
  if (result instanceof Promise) result.then(send, fail);
  else send(result);
}

/**
 * Calls `fn`; a throw or a rejected Promise is logged and reported, never
 * thrown into the client's read loop.
 *
 * @param logger Where the failure is logged.
 * @param report The client's `error` event.
 * @param what Description for the log.
 * @param fn The callback.
 */
export function runGuarded(
  logger: Logger,
  report: (error: Error) => void,
  what: string,
  fn: () => unknown,
): void {
  const fail = (error: unknown) => {
    const err = error instanceof Error ? error : new Error(String(error));
    logger.error(`${what} failed`, { error: err.message });
    report(err);
  };
  try {
    const result = fn();
    if (result instanceof Promise) result.catch(fail);
  } catch (error) {
    fail(error);
  }
}
