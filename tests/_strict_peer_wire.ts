/**
 * Wire-level pieces of the independent strict MQTT peer (`_strict_peer.ts`):
 * the packet shapes as `mqtt-packet` parses and generates them, the packet
 * types a client may send, strict UTF-8 decoding, Variable Byte Integers and
 * payload bytes/text. Nothing of the project's own codec is used.
 *
 * @module
 */

/** A packet as `mqtt-packet` parses or generates it (loosely typed). */
export interface MP {
  cmd: string;
  messageId?: number;
  qos?: number;
  dup?: boolean;
  retain?: boolean;
  topic?: string;
  payload?: Uint8Array | string;
  properties?: Record<string, unknown>;
  reasonCode?: number;
  returnCode?: number;
  sessionPresent?: boolean;
  protocolId?: string;
  protocolVersion?: number;
  clean?: boolean;
  keepalive?: number;
  clientId?: string;
  username?: string;
  password?: Uint8Array;
  will?: unknown;
  subscriptions?: { topic: string; qos: number; nl?: boolean; rap?: boolean; rh?: number }[];
  unsubscriptions?: string[];
  granted?: number[];
  reasonCodes?: number[];
  length?: number;
}

/** One packet received from the client. */
export interface Rec {
  /** The packet as parsed by mqtt-packet. */
  p: MP;
  /** Its bytes on the wire. */
  raw: Uint8Array;
  /** `performance.now()` when it was framed. */
  t: number;
  /** Whether the peer had already sent its CONNACK. */
  afterConnack: boolean;
}

/** What the peer answers to a CONNECT; `undefined` means "send nothing now". */
export type ConnackReply = MP | "raw-close" | undefined;

/** Properties that may appear at most once (all but User Property and Subscription Identifier). */
export const MULTI = new Set(["userProperties", "subscriptionIdentifier"]);

export const PACKET_TYPES = [
  "reserved",
  "connect",
  "connack",
  "publish",
  "puback",
  "pubrec",
  "pubrel",
  "pubcomp",
  "subscribe",
  "suback",
  "unsubscribe",
  "unsuback",
  "pingreq",
  "pingresp",
  "disconnect",
  "auth",
];

/** Packet types a client may send: all but the reserved type and the server's answers. */
const SERVER_ONLY = new Set(["reserved", "connack", "suback", "unsuback", "pingresp"]);
export const FROM_CLIENT = new Set(PACKET_TYPES.filter((t) => !SERVER_ONLY.has(t)));

export const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

export function timeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`StrictPeer: timed out after ${ms} ms waiting for ${what}`)),
        ms,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Reads a Variable Byte Integer at `off` of `b`.
 * @returns value and byte count, `undefined` if incomplete, or `-1` bytes if longer than 4 bytes.
 */
export function readVbi(b: Uint8Array, off: number): { value: number; bytes: number } | undefined {
  let value = 0;
  let mul = 1;
  for (let i = 0; i < 4; i++) {
    if (off + i >= b.length) return undefined;
    const byte = b[off + i]!;
    value += (byte & 0x7f) * mul;
    mul *= 128;
    if ((byte & 0x80) === 0) return { value, bytes: i + 1 };
  }
  return { value: -1, bytes: -1 };
}

export function vbiSize(n: number): number {
  return n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4;
}

/** Encodes `n` as a Variable Byte Integer (for hand-made raw packets). */
export function vbi(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

/** Payload as bytes. */
export function bytesOf(p: MP): Uint8Array {
  const x = p.payload;
  if (x === undefined) return new Uint8Array();
  return typeof x === "string" ? new TextEncoder().encode(x) : new Uint8Array(x);
}

/** Payload as text. */
export function textOf(p: MP): string {
  return new TextDecoder().decode(bytesOf(p));
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
