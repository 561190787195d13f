/**
 * Starts a real Mosquitto broker on a free loopback port for a test, and
 * makes TLS material with the `openssl` CLI.
 *
 * @module
 */

/** Path of the mosquitto binary, or `undefined` when not installed. */
export function mosquittoPath(): string | undefined {
  for (const p of ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"]) {
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch {
      // next
    }
  }
  return undefined;
}

/** `true` when `openssl` can be run. */
export async function hasOpenssl(): Promise<boolean> {
  try {
    const out = await new Deno.Command("openssl", {
      args: ["version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

/** TLS listener settings (PEM file paths). */
export interface MosquittoTls {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** Demand a client certificate signed by `caFile`. */
  requireCertificate?: boolean;
}

/** Options of {@linkcode startMosquitto}. */
export interface MosquittoOptions {
  /** Add a TLS listener. */
  tls?: MosquittoTls;
  /** Extra config lines. */
  extra?: string[];
  /** Log every packet (slow; for debugging). */
  verbose?: boolean;
}

/** A running broker; `await using` closes it. */
export interface Mosquitto extends AsyncDisposable {
  /** Plain MQTT port. */
  readonly port: number;
  /** Process id of the running broker (`undefined` while stopped). */
  readonly pid: number | undefined;
  /** TLS port (when configured). */
  readonly tlsPort: number | undefined;
  /** Temporary directory (config, log). */
  readonly dir: string;
  /** Stops the broker (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same ports. */
  start(): Promise<void>;
  /** Stops it and removes the directory. */
  close(): Promise<void>;
  /** The broker's log so far. */
  log(): string;
}

/** Returns a currently free loopback port. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function waitForPort(port: number, child: Deno.ChildProcess): Promise<void> {
  let exited = false;
  child.status.then(() => exited = true);
  for (let i = 0; i < 200; i++) {
    if (exited) throw new Error("mosquitto exited during startup");
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      c.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw new Error(`mosquitto did not listen on ${port}`);
}

/**
 * Starts Mosquitto with `listener <port> 127.0.0.1`, `allow_anonymous true`
 * and, optionally, a TLS listener.
 *
 * @param options TLS listener and extra config.
 * @returns The running broker.
 */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  const bin = mosquittoPath();
  if (!bin) throw new Error("mosquitto is not installed");
  const dir = await Deno.makeTempDir({ prefix: "tbwasm_mosquitto_" });
  const port = freePort();
  const tlsPort = options.tls ? freePort() : undefined;
  const user = Deno.uid?.() === 0 ? ["user root"] : []; // as root, mosquitto would drop to "mosquitto" and lose access
  const lines = [
    ...user,
    "per_listener_settings false",
    "allow_anonymous true",
    "persistence false",
    `log_dest file ${dir}/mosquitto.log`,
    ...(options.verbose
      ? ["log_type all"]
      : ["log_type error", "log_type warning", "log_type notice"]),
    "max_inflight_messages 0",
    "max_queued_messages 100000",
    `listener ${port} 127.0.0.1`,
  ];
  if (options.tls && tlsPort) {
    lines.push(
      `listener ${tlsPort} 127.0.0.1`,
      `cafile ${options.tls.caFile}`,
      `certfile ${options.tls.certFile}`,
      `keyfile ${options.tls.keyFile}`,
      `require_certificate ${options.tls.requireCertificate ? "true" : "false"}`,
    );
    if (options.tls.requireCertificate) lines.push("use_identity_as_username true");
  }
  lines.push(...(options.extra ?? []));
  const conf = `${dir}/mosquitto.conf`;
  await Deno.writeTextFile(conf, lines.join("\n") + "\n");
  let child: Deno.ChildProcess | undefined;

  const start = async () => {
    child = new Deno.Command(bin, {
      args: ["-c", conf],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    await waitForPort(port, child);
    if (tlsPort) await waitForPort(tlsPort, child);
  };
  const stop = async () => {
    if (!child) return;
    const c = child;
    child = undefined;
    try {
      c.kill("SIGTERM");
    } catch {
      // already gone
    }
    await c.status;
  };
  try {
    await start();
  } catch (e) {
    await stop();
    await Deno.remove(dir, { recursive: true });
    throw e;
  }
  const close = async () => {
    await stop();
    await Deno.remove(dir, { recursive: true });
  };
  return {
    port,
    get pid() {
      return child?.pid;
    },
    tlsPort,
    dir,
    start,
    stop,
    close,
    [Symbol.asyncDispose]: close,
    log() {
      try {
        return Deno.readTextFileSync(`${dir}/mosquitto.log`);
      } catch {
        return "";
      }
    },
  };
}

/** PEM files of a test PKI. */
export interface TestPki {
  dir: string;
  caFile: string;
  ca: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCert: string;
  clientKey: string;
  /** A client certificate from a different, untrusted CA. */
  rogueCert: string;
  rogueKey: string;
}

async function openssl(dir: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", {
    args,
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`openssl ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/**
 * Makes a self-signed CA, a server certificate for 127.0.0.1/localhost and
 * client certificates (one trusted, one from a rogue CA) in a temp dir.
 *
 * @returns The PKI.
 */
export async function makeTestPki(): Promise<TestPki> {
  const dir = await Deno.makeTempDir({ prefix: "tbwasm_pki_" });
  try {
    return await buildPki(dir);
  } catch (e) {
    await Deno.remove(dir, { recursive: true });
    throw e;
  }
}

async function buildPki(dir: string): Promise<TestPki> {
  const days = ["-days", "2"];
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const selfSigned = (name: string, cn: string) =>
    openssl(
      dir,
      "req",
      "-x509",
      ...ec,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.crt`,
      ...days,
      "-subj",
      `/CN=${cn}`,
    );
  /** Key and certificate `name.{key,crt}` signed by the CA, with extensions `ext`. */
  const issue = async (name: string, cn: string, ext: string) => {
    await Deno.writeTextFile(`${dir}/${name}.ext`, ext);
    await openssl(
      dir,
      "req",
      ...ec,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
      "-subj",
      `/CN=${cn}`,
    );
    await openssl(
      dir,
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      `${name}.crt`,
      ...days,
      "-extfile",
      `${name}.ext`,
    );
  };
  await selfSigned("ca", "tbwasm test CA");
  await issue(
    "server",
    "localhost",
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
  );
  await issue("client", "device-1", "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n");
  await selfSigned("rogue", "rogue");
  const read = (f: string) => Deno.readTextFileSync(`${dir}/${f}`);
  return {
    dir,
    caFile: `${dir}/ca.crt`,
    ca: read("ca.crt"),
    serverCertFile: `${dir}/server.crt`,
    serverKeyFile: `${dir}/server.key`,
    clientCert: read("client.crt"),
    clientKey: read("client.key"),
    rogueCert: read("rogue.crt"),
    rogueKey: read("rogue.key"),
  };
}

/**
 * Runs `fn` with a fresh test PKI ({@linkcode makeTestPki}) and removes its files afterwards.
 *
 * @param fn The test body.
 */
export async function withPki(fn: (pki: TestPki) => Promise<void>): Promise<void> {
  const pki = await makeTestPki();
  try {
    await fn(pki);
  } finally {
    await Deno.remove(pki.dir, { recursive: true });
  }
}
