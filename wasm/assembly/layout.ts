// Fixed memory layout. The module declares 32 pages (2 MiB) as both initial
// and maximum size and never grows, so typed-array views over the memory
// never detach.

/**
 * Float formatter table: 10^e scaled to 126 bits (2^125 < g <= 2^126, g =
 * floor(10^e * 2^(125 - floor(log2 10^e))) + 1) for e = -292..324, 128 bits
 * each (low word first), filled by the host at start-up.
 */
export const POW10_G: u32 = 0x1000;
/** Copy of the last decoded topic, to reuse the host's string. */
export const TOPIC_CACHE: u32 = 0x4000;
/** Results for the host, u32 each: see the R_* indexes. */
export const RESULT: u32 = 0x7f00;
export const R_TOPIC_PTR: u32 = RESULT;
export const R_TOPIC_LENGTH: u32 = RESULT + 4;
export const R_TOPIC_SAME: u32 = RESULT + 8;
export const R_PACKET_ID: u32 = RESULT + 12;
export const R_PAYLOAD_PTR: u32 = RESULT + 16;
export const R_PAYLOAD_LENGTH: u32 = RESULT + 20;
export const R_HEADER_LENGTH: u32 = RESULT + 24;
export const R_ERROR_AT: u32 = RESULT + 28;
export const R_FRAME_LENGTH: u32 = RESULT + 32;
export const R_FLAGS: u32 = RESULT + 36;
/** Scratch for one encoded topic or key (UTF-8, host-written), 16 KiB. */
export const SCRATCH: u32 = 0x8000;
export const SCRATCH_SIZE: u32 = 0x8000;
/** Start of the big arena (inbound bytes, or input tape + outbound packets). */
export const ARENA: u32 = 0x10000;
/** Shared instance: registered telemetry keys, u32 (offset << 0 | length << 16) each (2048). */
export const KEY_INDEX: u32 = ARENA + 448 * 1024;
/** Shared instance: the keys' `"key":` fragments (56 KiB). */
export const KEY_DATA: u32 = KEY_INDEX + 8 * 1024;
/** End of memory. */
export const MEMORY_END: u32 = 32 << 16;
