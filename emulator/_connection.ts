/**
 * One accepted socket: a read loop that hands chunks to a callback, and a
 * write queue drained by its own loop, so that no caller ever awaits a
 * client's socket (a slow reader cannot stall anyone else).
 *
 * @module
 */

import { concat } from "../core/codec/_bytes.ts";

/** Bytes queued for a client beyond which it is considered stuck and dropped. */
const MAX_QUEUED_BYTES = 16 * 1024 * 1024;
/** How long a closing connection may take to flush its last packets. */
const FLUSH_TIMEOUT_MS = 1000;

/** The client stopped reading: more than 16 MiB are queued for it. */
export class SlowClientError extends Error {
  constructor() {
    super("Client is not reading: too many bytes queued");
    this.name = "SlowClientError";
  }
}

/** Callbacks of a {@linkcode Connection}. */
export interface ConnectionHandler {
  /** A chunk arrived (a fresh copy the handler may keep). */
  onData(chunk: Uint8Array): void;
  /** The socket is closed (by either side); called once. */
  onClose(error: Error | undefined): void;
}

/** A socket with a non-blocking write queue. */
export class Connection {
  readonly #conn: Deno.Conn;
  #handler: ConnectionHandler | undefined;
  readonly #queue: Uint8Array[] = [];
  #queued = 0;
  #writing = false;
  #ending = false;
  #closed = false;
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  /** Resolves when the read loop has ended and the socket is closed. */
  readonly done: Promise<void>;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
    this.done = this.#readLoop();
  }

  /** Sets the handler; call it synchronously after construction. */
  setHandler(handler: ConnectionHandler): void {
    this.#handler = handler;
  }

  /** Whether the socket is closed or closing. */
  get closed(): boolean {
    return this.#closed || this.#ending;
  }

  async #readLoop(): Promise<void> {
    const buffer = new Uint8Array(16 * 1024);
    let error: Error | undefined;
    try {
      while (!this.#closed) {
        const n = await this.#conn.read(buffer);
        if (n === null) break;
        if (this.#ending) continue; // discard input while flushing our last packets
        this.#handler?.onData(buffer.slice(0, n));
      }
    } catch (e) {
      if (!this.#closed) error = e instanceof Error ? e : new Error(String(e));
    }
    this.#close(error);
  }

  /** Queues bytes for the client. Drops the connection if too much is queued. */
  write(bytes: Uint8Array): void {
    if (this.#closed || this.#ending) return;
    this.#queue.push(bytes);
    this.#queued += bytes.length;
    if (this.#queued > MAX_QUEUED_BYTES) {
      this.#close(new SlowClientError());
      return;
    }
    if (!this.#writing) void this.#writeLoop();
  }

  async #writeLoop(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const chunk = concat(this.#queue);
        this.#queue.length = 0;
        let offset = 0;
        while (offset < chunk.length && !this.#closed) {
          offset += await this.#conn.write(chunk.subarray(offset));
        }
        this.#queued -= chunk.length;
      }
    } catch (e) {
      this.#close(e instanceof Error ? e : new Error(String(e)));
    } finally {
      this.#writing = false;
    }
    if (this.#ending) this.#close(undefined);
  }

  /** Flushes queued bytes, then closes (forcibly after a short timeout). */
  end(): void {
    if (this.#closed || this.#ending) return;
    this.#ending = true;
    if (!this.#writing) {
      this.#close(undefined);
      return;
    }
    this.#flushTimer = setTimeout(() => this.#close(undefined), FLUSH_TIMEOUT_MS);
  }

  /** Closes the socket now, dropping queued bytes. */
  abort(): void {
    this.#close(undefined);
  }

  #close(error: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ending = false;
    if (this.#flushTimer !== undefined) clearTimeout(this.#flushTimer);
    this.#queue.length = 0;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
    const handler = this.#handler;
    this.#handler = undefined;
    handler?.onClose(error);
  }
}
