/**
 * Firmware and software packages (OTA): assignment as ThingsBoard's
 * `DefaultOtaPackageStateService` writes it (shared `fw_*`/`sw_*` attributes,
 * `target_*` telemetry) and chunk requests as `MqttTransportHandler` serves
 * them on `v2/fw/request/{requestId}/chunk/{chunk}`.
 *
 * @module
 */

import { ReasonCode } from "../core/codec/mod.ts";
import { computeChecksum, isChecksumAlgorithm } from "../core/client/_checksum.ts";
import type { Core } from "./core.ts";
import type { Session } from "./session.ts";
import { type DeviceRecord, storeTelemetry } from "./store.ts";
import { parseJavaInt } from "./topics.ts";
import { longValue, stringValue, type TypedValue } from "./typing.ts";
import type { ChecksumAlgorithm, OtaPackageSpec, OtaType } from "./types.ts";

/** A package as stored for a device. */
export interface OtaPackage {
  type: OtaType;
  title: string;
  version: string;
  tag: string | undefined;
  data: Uint8Array;
  checksumAlgorithm: ChecksumAlgorithm;
  checksum: string;
}

/** Thrown by a chunk request ThingsBoard cannot parse (it closes the session with 0x8B). */
export class OtaRequestFault extends Error {}

const KEYS = [
  "title",
  "version",
  "ts",
  "state",
  "size",
  "checksum",
  "checksum_algorithm",
  "url",
  "tag",
];

/** The checksum ThingsBoard computes for a package (lower-case hex). */
export function checksum(algorithm: ChecksumAlgorithm, data: Uint8Array): string {
  if (!isChecksumAlgorithm(algorithm)) {
    throw new TypeError(
      `Cannot assign OTA package: unsupported checksum algorithm "${algorithm}"`,
    );
  }
  return computeChecksum(algorithm, data);
}

/** Validates a spec into a stored package. */
export function toPackage(spec: OtaPackageSpec): OtaPackage {
  const type = spec.type ?? "firmware";
  if (type !== "firmware" && type !== "software") {
    throw new TypeError(`Cannot assign OTA package: unknown type "${type}"`);
  }
  for (const field of ["title", "version"] as const) {
    if (typeof spec[field] !== "string" || spec[field] === "") {
      throw new TypeError(`Cannot assign OTA package: ${field} must be a non-empty string`);
    }
  }
  if (!(spec.data instanceof Uint8Array)) {
    throw new TypeError("Cannot assign OTA package: data must be a Uint8Array");
  }
  const algorithm = spec.checksumAlgorithm ?? "SHA256";
  return {
    type,
    title: spec.title,
    version: spec.version,
    tag: spec.tag || undefined,
    data: spec.data,
    checksumAlgorithm: algorithm,
    checksum: checksum(algorithm, spec.data),
  };
}

const prefixOf = (type: OtaType) => type === "firmware" ? "fw" : "sw";

/** Assigns a package: target telemetry, `{"deleted":[...]}` of stale keys, then the new attributes. */
export function assignPackage(core: Core, record: DeviceRecord, pkg: OtaPackage): void {
  const p = prefixOf(pkg.type);
  record.ota.set(pkg.type, pkg);
  const ts = Date.now();
  const telemetry = new Map<string, TypedValue>([
    [`target_${p}_title`, stringValue(pkg.title)],
    [`target_${p}_version`, stringValue(pkg.version)],
    ...(pkg.tag ? [[`target_${p}_tag`, stringValue(pkg.tag)] as [string, TypedValue]] : []),
    [`target_${p}_ts`, longValue(BigInt(ts))],
    [`${p}_state`, stringValue("QUEUED")],
  ]);
  storeTelemetry(record, ts, telemetry);
  storeTelemetry(record, ts, new Map([[`${p}_state`, stringValue("INITIATED")]]));
  core.deleteShared(record, [...(pkg.tag ? [] : [`${p}_tag`]), `${p}_url`]);
  core.setSharedValues(
    record,
    new Map<string, TypedValue>([
      [`${p}_title`, stringValue(pkg.title)],
      [`${p}_version`, stringValue(pkg.version)],
      ...(pkg.tag ? [[`${p}_tag`, stringValue(pkg.tag)] as [string, TypedValue]] : []),
      [`${p}_size`, longValue(BigInt(pkg.data.length))],
      [`${p}_checksum_algorithm`, stringValue(pkg.checksumAlgorithm)],
      [`${p}_checksum`, stringValue(pkg.checksum)],
    ]),
  );
}

/** Unassigns: deletes every `fw_*` (or `sw_*`) attribute key. */
export function unassignPackage(core: Core, record: DeviceRecord, type: OtaType): void {
  record.ota.delete(type);
  core.deleteShared(record, KEYS.map((k) => `${prefixOf(type)}_${k}`));
}

/** Serves `v2/{fw|sw}/request/{requestId}/chunk/{chunk}` (`getOtaPackageCallback`). */
export function handleChunkRequest(
  s: Session,
  packetId: number,
  type: OtaType,
  requestId: string,
  chunkText: string,
  payload: string,
): void {
  const chunkSize = payload === "" ? 0 : javaInt(payload);
  const chunk = javaInt(chunkText);
  let size = chunkSize;
  if (size > 0) s.otaChunkSizes.set(requestId, size);
  else size = s.otaChunkSizes.get(requestId) ?? 0;
  if (size > s.core.options.maxPayloadSize) return otaError(s, "PAYLOAD_TOO_LARGE");
  let pkg = s.otaRequests.get(requestId);
  if (!pkg) {
    pkg = s.record!.ota.get(type);
    if (!pkg) return otaError(s, "NOT_FOUND");
    s.otaRequests.set(requestId, pkg);
  }
  s.ack(packetId);
  s.core.emit({ type: "otaChunkRequest", otaType: pkg.type, requestId, chunk, chunkSize: size }, s);
  const data = pkg.data;
  let bytes = data;
  if (size > 0) {
    const start = size * chunk;
    bytes = start < data.length
      ? data.subarray(start, Math.min(data.length, start + size))
      : new Uint8Array(0);
  }
  s.publish(`v2/${prefixOf(pkg.type)}/response/${requestId}/chunk/${chunk}`, bytes);
}

function javaInt(s: string): number {
  const n = parseJavaInt(s);
  if (n === undefined) throw new OtaRequestFault(`Invalid number "${s}"`);
  return n;
}

/** Publishes the error on `v2/fw/error` (for software too, as ThingsBoard) and closes (0x83). */
function otaError(s: Session, error: string): void {
  s.publish("v2/fw/error", error);
  s.core.emit(
    {
      type: "publishRejected",
      topic: "v2/fw/error",
      reasonCode: ReasonCode.ImplementationSpecificError,
      message: error,
    },
    s,
  );
  s.close("server", ReasonCode.ImplementationSpecificError);
}
