/** Helpers shared by the OTA tests: test packages and what the emulator recorded. */
import type { Emulator } from "../emulator/mod.ts";

/** `n` bytes of a fixed pattern (not all equal, so that misplaced chunks show). */
export const blob = (n: number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) % 256);

/** `fw_state` (or `sw_state`) values in the order the server stored them. */
export function states(tb: Emulator, key = "fw_state"): unknown[] {
  return tb.events().flatMap((e) => e.type === "telemetry" ? e.values[key] ?? [] : [])
    .map((entry) => entry.value);
}

/** Indexes of the chunk requests the server received, in order. */
export function chunkRequests(tb: Emulator): number[] {
  return tb.events().flatMap((e) => e.type === "otaChunkRequest" ? [e.chunk] : []);
}
