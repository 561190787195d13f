/**
 * Checksums of OTA packages as ThingsBoard writes them (Guava's
 * `HashCode.toString()`, lower-case hex): MD5 and SHA-2 through
 * `node:crypto`; CRC32, MurmurHash3 x86_32 and x64_128 implemented here,
 * incrementally, with their bytes little-endian as Guava prints them.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { ChecksumAlgorithm } from "./ota.ts";

/** Every {@linkcode ChecksumAlgorithm}. */
export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = [
  "MD5",
  "SHA256",
  "SHA384",
  "SHA512",
  "CRC32",
  "MURMUR3_32",
  "MURMUR3_128",
];

/** A checksum computed chunk by chunk. */
export interface Hasher {
  /** Adds bytes. */
  update(data: Uint8Array): void;
  /** The checksum of everything added, lower-case hex as ThingsBoard writes it. */
  digest(): string;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** Hex of `x`'s 4 bytes, least significant first (Guava's `HashCode.fromInt`). */
function int32Hex(x: number): string {
  let s = "";
  for (let i = 0; i < 4; i++) s += ((x >>> (8 * i)) & 0xff).toString(16).padStart(2, "0");
  return s;
}

/** Hex of `x`'s 8 bytes, least significant first. */
function int64Hex(x: bigint): string {
  let s = "";
  for (let i = 0n; i < 8n; i++) s += ((x >> (8n * i)) & 0xffn).toString(16).padStart(2, "0");
  return s;
}

class Crc32 implements Hasher {
  #c = 0xffffffff;
  update(data: Uint8Array): void {
    let c = this.#c;
    for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
    this.#c = c;
  }
  digest(): string {
    return int32Hex((this.#c ^ 0xffffffff) >>> 0);
  }
}

/** Feeds whole blocks of `size` bytes to `block`, keeping the rest for later. */
abstract class BlockHasher implements Hasher {
  #tail: Uint8Array;
  #tailLength = 0;
  protected length = 0;

  constructor(readonly size: number) {
    this.#tail = new Uint8Array(size);
  }

  protected abstract block(data: Uint8Array, offset: number): void;
  protected abstract finish(tail: Uint8Array): string;

  update(data: Uint8Array): void {
    this.length += data.length;
    let i = 0;
    if (this.#tailLength > 0) {
      const take = Math.min(this.size - this.#tailLength, data.length);
      this.#tail.set(data.subarray(0, take), this.#tailLength);
      this.#tailLength += take;
      i = take;
      if (this.#tailLength < this.size) return;
      this.block(this.#tail, 0);
      this.#tailLength = 0;
    }
    for (; i + this.size <= data.length; i += this.size) this.block(data, i);
    this.#tail.set(data.subarray(i), 0);
    this.#tailLength = data.length - i;
  }

  digest(): string {
    return this.finish(this.#tail.subarray(0, this.#tailLength));
  }
}

const M32_C1 = 0xcc9e2d51;
const M32_C2 = 0x1b873593;

function mix32(k: number): number {
  k = Math.imul(k, M32_C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, M32_C2);
}

/** MurmurHash3 x86_32, seed 0 (Guava `Hashing.murmur3_32()`). */
class Murmur3x86x32 extends BlockHasher {
  #h = 0;
  constructor() {
    super(4);
  }
  protected block(d: Uint8Array, o: number): void {
    let h = this.#h ^ mix32(d[o]! | (d[o + 1]! << 8) | (d[o + 2]! << 16) | (d[o + 3]! << 24));
    h = (h << 13) | (h >>> 19);
    this.#h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  protected finish(tail: Uint8Array): string {
    let h = this.#h;
    let k = 0;
    for (let i = tail.length - 1; i >= 0; i--) k = (k << 8) | tail[i]!;
    if (tail.length > 0) h ^= mix32(k);
    h ^= this.length;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return int32Hex(h >>> 0);
  }
}

const U64 = (x: bigint) => BigInt.asUintN(64, x);
const rotl64 = (x: bigint, r: bigint) => U64((x << r) | (x >> (64n - r)));
const M128_C1 = 0x87c37b91114253d5n;
const M128_C2 = 0x4cf5ad432745937fn;

function fmix64(k: bigint): bigint {
  k ^= k >> 33n;
  k = U64(k * 0xff51afd7ed558ccdn);
  k ^= k >> 33n;
  k = U64(k * 0xc4ceb9fe1a85ec53n);
  return k ^ (k >> 33n);
}

const mixK1 = (k: bigint) => U64(rotl64(U64(k * M128_C1), 31n) * M128_C2);
const mixK2 = (k: bigint) => U64(rotl64(U64(k * M128_C2), 33n) * M128_C1);

/** Little-endian integer of up to 8 bytes. */
function readLe(bytes: Uint8Array, from: number, to: number): bigint {
  let k = 0n;
  for (let i = to - 1; i >= from; i--) k = (k << 8n) | BigInt(bytes[i]!);
  return k;
}

/** MurmurHash3 x64_128, seed 0 (Guava `Hashing.murmur3_128()`). */
class Murmur3x64x128 extends BlockHasher {
  #h1 = 0n;
  #h2 = 0n;
  constructor() {
    super(16);
  }
  protected block(d: Uint8Array, o: number): void {
    let h1 = this.#h1 ^ mixK1(readLe(d, o, o + 8));
    h1 = U64(rotl64(h1, 27n) + this.#h2);
    h1 = U64(h1 * 5n + 0x52dce729n);
    let h2 = this.#h2 ^ mixK2(readLe(d, o + 8, o + 16));
    h2 = U64(rotl64(h2, 31n) + h1);
    this.#h2 = U64(h2 * 5n + 0x38495ab5n);
    this.#h1 = h1;
  }
  protected finish(tail: Uint8Array): string {
    let h1 = this.#h1;
    let h2 = this.#h2;
    if (tail.length > 8) h2 ^= mixK2(readLe(tail, 8, tail.length));
    if (tail.length > 0) h1 ^= mixK1(readLe(tail, 0, Math.min(8, tail.length)));
    const len = BigInt(this.length);
    h1 ^= len;
    h2 ^= len;
    h1 = U64(h1 + h2);
    h2 = U64(h2 + h1);
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    h1 = U64(h1 + h2);
    h2 = U64(h2 + h1);
    return int64Hex(h1) + int64Hex(h2);
  }
}

class NodeHasher implements Hasher {
  #hash;
  constructor(name: string) {
    this.#hash = createHash(name);
  }
  update(data: Uint8Array): void {
    this.#hash.update(data);
  }
  digest(): string {
    return this.#hash.digest("hex");
  }
}

/**
 * Whether `name` is one of ThingsBoard's checksum algorithms.
 *
 * @param name An algorithm name, e.g. from `fw_checksum_algorithm`.
 * @returns `true` for a {@linkcode ChecksumAlgorithm}.
 */
export function isChecksumAlgorithm(name: unknown): name is ChecksumAlgorithm {
  return CHECKSUM_ALGORITHMS.includes(name as ChecksumAlgorithm);
}

/**
 * Starts an incremental checksum.
 *
 * @param algorithm The algorithm.
 * @returns A hasher to feed chunks to.
 * @throws {TypeError} for an unknown algorithm.
 */
export function createHasher(algorithm: ChecksumAlgorithm): Hasher {
  switch (algorithm) {
    case "MD5":
    case "SHA256":
    case "SHA384":
    case "SHA512":
      return new NodeHasher(algorithm.toLowerCase());
    case "CRC32":
      return new Crc32();
    case "MURMUR3_32":
      return new Murmur3x86x32();
    case "MURMUR3_128":
      return new Murmur3x64x128();
    default:
      throw new TypeError(`Cannot compute checksum: unknown algorithm "${String(algorithm)}"`);
  }
}

/**
 * The checksum ThingsBoard stores for `data`.
 *
 * @param algorithm The algorithm.
 * @param data The package bytes.
 * @returns Lower-case hex, little-endian for CRC32 and MurmurHash3 (as Guava prints them).
 * @throws {TypeError} for an unknown algorithm.
 */
export function computeChecksum(algorithm: ChecksumAlgorithm, data: Uint8Array): string {
  const hasher = createHasher(algorithm);
  hasher.update(data);
  return hasher.digest();
}
