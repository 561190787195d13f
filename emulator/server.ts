/**
 * TCP and TLS listeners: each accepted socket becomes a {@linkcode Session}.
 *
 * @module
 */

import { ReasonCode } from "../core/codec/mod.ts";
import { Connection } from "./_connection.ts";
import type { Core } from "./core.ts";
import { Session } from "./session.ts";

/** The listeners of one emulator. */
export class Server {
  readonly #core: Core;
  readonly #listeners: Deno.Listener[] = [];
  readonly #loops: Promise<void>[] = [];
  readonly #connections = new Set<Connection>();
  #nextId = 1;
  /** Bound TCP port. */
  port = 0;
  /** Bound TLS port, if any. */
  tlsPort: number | undefined;

  constructor(core: Core) {
    this.#core = core;
  }

  /** Binds the listeners and starts accepting. */
  listen(): void {
    const { host, port, tls } = this.#core.options;
    const tcp = Deno.listen({ hostname: host, port, transport: "tcp" });
    this.port = tcp.addr.port;
    this.#start(tcp, false);
    if (tls) {
      let secure: Deno.TlsListener;
      try {
        secure = Deno.listenTls({ hostname: host, port: tls.port, cert: tls.cert, key: tls.key });
      } catch (e) {
        tcp.close();
        throw e;
      }
      this.tlsPort = secure.addr.port;
      this.#start(secure, true);
    }
  }

  #start(listener: Deno.Listener, tls: boolean): void {
    this.#listeners.push(listener);
    this.#loops.push(this.#accept(listener, tls));
  }

  async #accept(listener: Deno.Listener, tls: boolean): Promise<void> {
    try {
      for await (const conn of listener) {
        try {
          this.#onConn(conn, tls);
        } catch {
          // one bad socket must not stop the accept loop
          try {
            conn.close();
          } catch {
            // already closed
          }
        }
      }
    } catch {
      // listener closed
    }
  }

  #onConn(conn: Deno.Conn, tls: boolean): void {
    if (this.#core.closed) {
      conn.close();
      return;
    }
    if (!tls) (conn as Deno.TcpConn).setNoDelay?.(true);
    const connection = new Connection(conn);
    const session = new Session(this.#core, this.#nextId++, connection, tls);
    this.#core.sessions.add(session);
    this.#connections.add(connection);
    connection.done.finally(() => this.#connections.delete(connection));
  }

  /** Stops accepting, closes every connection and waits until all sockets are closed. */
  async close(): Promise<void> {
    for (const l of this.#listeners) {
      try {
        l.close();
      } catch {
        // already closed
      }
    }
    await Promise.all(this.#loops);
    // v5 clients are told the server is shutting down (DISCONNECT 0x8B).
    for (const session of [...this.#core.sessions]) {
      session.close("server", ReasonCode.ServerShuttingDown);
    }
    await Promise.all([...this.#connections].map((c) => c.done));
  }
}
