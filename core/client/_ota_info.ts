/**
 * Reading an assigned OTA package from the `fw_*` / `sw_*` shared attributes.
 *
 * @module
 */

import type { JsonObject } from "../payload.ts";
import { isChecksumAlgorithm } from "./_checksum.ts";
import type { OtaPackageInfo, OtaType } from "./ota.ts";

/**
 * The attribute and topic prefix of a package type.
 *
 * @param type Firmware or software.
 * @returns `"fw"` or `"sw"`.
 */
export function prefixOf(type: OtaType): "fw" | "sw" {
  return type === "firmware" ? "fw" : "sw";
}

/**
 * Reads the package description out of shared attributes (a response's
 * `shared` scope or a push). Sizes that are not non-negative integers count
 * as unknown; an unknown checksum algorithm leaves `checksumAlgorithm`
 * undefined while `checksum` stays set (the update then refuses it).
 *
 * @param type Firmware or software.
 * @param shared The attributes.
 * @returns The package, or `undefined` without a string title and version.
 */
export function parseOtaInfo(type: OtaType, shared: JsonObject): OtaPackageInfo | undefined {
  const p = prefixOf(type);
  const get = (key: string) => shared[`${p}_${key}`];
  const title = get("title");
  const version = get("version");
  if (typeof title !== "string" || typeof version !== "string") return undefined;
  const info: OtaPackageInfo = { type, title, version };
  const size = get("size");
  if (typeof size === "number" && Number.isSafeInteger(size) && size >= 0) info.size = size;
  const checksum = get("checksum");
  if (typeof checksum === "string" && checksum !== "") info.checksum = checksum.toLowerCase();
  const algorithm = get("checksum_algorithm");
  const name = typeof algorithm === "string" ? algorithm.toUpperCase() : undefined;
  if (isChecksumAlgorithm(name)) info.checksumAlgorithm = name;
  for (const key of ["tag", "url"] as const) {
    const value = get(key);
    if (typeof value === "string" && value !== "") info[key] = value;
  }
  return info;
}
