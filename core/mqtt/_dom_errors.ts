/**
 * The `DOMException`s used for aborts and timeouts, shared by `core/mqtt`,
 * `core/client` and `core/provision.ts`; not re-exported.
 *
 * @module
 */

/**
 * Creates the `DOMException` named `"AbortError"` used when an operation is
 * aborted through an `AbortSignal` (its reason wins when it is an Error).
 *
 * @example
 * ```ts
 * import { abortError } from "./_dom_errors.ts";
 * const e = abortError("Cannot connect: aborted");
 * console.log(e instanceof DOMException ? e.name : ""); // "AbortError"
 * ```
 *
 * @param message Message.
 * @param signal The aborted signal, whose Error reason is returned instead.
 * @returns The error.
 */
export function abortError(message: string, signal?: AbortSignal): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error && reason.name !== "AbortError") return reason;
  return new DOMException(message, "AbortError");
}

/**
 * Creates the `DOMException` named `"TimeoutError"` used when an operation
 * exceeds its timeout.
 *
 * @example
 * ```ts
 * import { timeoutError } from "./_dom_errors.ts";
 * console.log(timeoutError("Cannot connect: no CONNACK within 10000 ms").name); // "TimeoutError"
 * ```
 *
 * @param message Message.
 * @returns The error.
 */
export function timeoutError(message: string): DOMException {
  return new DOMException(message, "TimeoutError");
}
