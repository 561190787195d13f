/**
 * The byte stream under the MQTT client: a minimal `{ read, write, close }`
 * interface, with TCP and TLS implementations on `Deno.connect` and
 * `Deno.connectTls`.
 *
 * @module
 */

/**
 * A connected byte stream. `Deno.Conn` satisfies it.
 *
 * @example An in-memory transport for tests
 * ```ts
 * import type { Transport } from "./transport.ts";
 * const closed: Transport = {
 *   read: () => Promise.resolve(null),
 *   write: (data) => Promise.resolve(data.length),
 *   close: () => {},
 * };
 * ```
 */
export interface Transport {
  /** Reads into `buffer`; resolves with the byte count, or `null` at end of stream. */
  read(buffer: Uint8Array): Promise<number | null>;
  /** Writes some of `data`; resolves with the byte count written. */
  write(data: Uint8Array): Promise<number>;
  /** Closes the stream; pending reads end. Must not throw when already closed. */
  close(): void;
}

/**
 * TLS settings: PEM strings. Server verification is always on; `caCerts`
 * adds trusted roots (e.g. a self-signed CA), `cert` + `key` authenticate the
 * client with an X.509 certificate.
 *
 * @example
 * ```ts
 * import type { TlsOptions } from "./transport.ts";
 * const tls: TlsOptions = { caCerts: ["-----BEGIN CERTIFICATE-----\n..."] };
 * ```
 */
export interface TlsOptions {
  /** Extra trusted CA certificates (PEM). @default {undefined} (system/Mozilla roots) */
  caCerts?: string[];
  /** Client certificate chain (PEM), for X.509 client authentication. */
  cert?: string;
  /** Private key of `cert` (PEM). */
  key?: string;
  /**
   * Name the server certificate must carry, when it differs from `host`
   * (e.g. connecting by IP address). Not combinable with `cert`/`key`.
   */
  serverName?: string;
}

/**
 * Where and how to connect.
 *
 * @example
 * ```ts
 * import type { TransportOptions } from "./transport.ts";
 * const o: TransportOptions = { host: "127.0.0.1", port: 1883 };
 * ```
 */
export interface TransportOptions {
  /** Host name or IP address. */
  host: string;
  /** TCP port. */
  port: number;
  /** TLS settings; absent for plain TCP. */
  tls?: TlsOptions;
  /** Aborts connecting. */
  signal?: AbortSignal;
}

/**
 * Opens a transport. The client calls it once per connection attempt.
 *
 * @example
 * ```ts
 * import { connectTransport, type TransportFactory } from "./transport.ts";
 * const factory: TransportFactory = (options) => connectTransport(options);
 * ```
 */
export type TransportFactory = (options: TransportOptions) => Promise<Transport>;

/**
 * Opens a TCP connection, or a TLS connection (server certificate verified)
 * when `options.tls` is set.
 *
 * @example
 * ```ts ignore
 * import { connectTransport } from "./transport.ts";
 * const t = await connectTransport({ host: "127.0.0.1", port: 1883 });
 * t.close();
 * ```
 *
 * @param options Host, port, TLS settings and abort signal.
 * @returns The connected transport.
 * @throws {TypeError} If a client certificate comes without its key (or the reverse), or with `serverName`.
 * @throws {Deno.errors.ConnectionRefused} And other network errors.
 */
export async function connectTransport(options: TransportOptions): Promise<Transport> {
  const { host, port, tls, signal } = options;
  if (!tls) {
    const conn = await Deno.connect({ hostname: host, port, ...(signal ? { signal } : {}) });
    conn.setNoDelay(true);
    return conn;
  }
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new TypeError("Cannot connect with TLS: a client certificate needs both cert and key");
  }
  const caCerts = tls.caCerts ? { caCerts: tls.caCerts } : {};
  if (tls.serverName !== undefined) {
    if (tls.cert !== undefined) {
      throw new TypeError(
        "Cannot connect with TLS: serverName cannot be combined with a client certificate",
      );
    }
    const tcp = await Deno.connect({ hostname: host, port, ...(signal ? { signal } : {}) });
    tcp.setNoDelay(true);
    try {
      const conn = await Deno.startTls(tcp, { hostname: tls.serverName, ...caCerts });
      await conn.handshake();
      return conn;
    } catch (e) {
      tcp.close();
      throw e;
    }
  }
  const conn = tls.cert !== undefined && tls.key !== undefined
    ? await Deno.connectTls({ hostname: host, port, ...caCerts, cert: tls.cert, key: tls.key })
    : await Deno.connectTls({ hostname: host, port, ...caCerts });
  try {
    await conn.handshake(); // surface certificate errors here, not on the first read
    if (signal?.aborted) throw signal.reason;
  } catch (e) {
    conn.close();
    throw e;
  }
  return conn;
}
