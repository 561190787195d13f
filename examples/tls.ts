/**
 * Connects over TLS (MQTTS, port 8883) with server verification, optionally
 * trusting a private CA. With a client certificate and key, ThingsBoard
 * authenticates the device by X.509 instead of a token.
 *
 * Emulator (makes a throw-away CA and server certificate with `openssl`):
 *   deno run --allow-net=127.0.0.1 --allow-run=openssl --allow-read --allow-write examples/tls.ts
 * ThingsBoard Cloud (public CA, verified against the system roots):
 *   TB_HOST=thingsboard.cloud TB_ACCESS_TOKEN=... deno run --allow-net=thingsboard.cloud:8883 \
 *     --allow-env=TB_HOST,TB_PORT,TB_ACCESS_TOKEN,TB_CA_CERT examples/tls.ts
 * Self-hosted with a private CA: add TB_CA_CERT=/path/ca.pem and --allow-read=/path/ca.pem.
 *
 * @module
 */
import { TBDeviceMqttClient } from "../mod.ts";
import { startEmulator } from "../emulator/mod.ts";
import { env } from "./_target.ts";

async function openssl(args: string[], cwd: string): Promise<void> {
  const { success, stderr } = await new Deno.Command("openssl", {
    args,
    cwd,
    stderr: "piped",
    stdout: "null",
  })
    .output();
  if (!success) throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(stderr)}`);
}

/** Makes a CA and a server certificate for 127.0.0.1 in a temporary directory. */
async function makeCertificates(): Promise<{ ca: string; cert: string; key: string }> {
  const dir = await Deno.makeTempDir({ prefix: "tbwasm-tls-" });
  try {
    await openssl([
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=tbwasm example CA",
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
    ], dir);
    await openssl([
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      "/CN=127.0.0.1",
      "-keyout",
      "server.key",
      "-out",
      "server.csr",
    ], dir);
    await Deno.writeTextFile(`${dir}/ext.cnf`, "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    await openssl([
      "x509",
      "-req",
      "-in",
      "server.csr",
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "1",
      "-extfile",
      "ext.cnf",
      "-out",
      "server.pem",
    ], dir);
    const read = (f: string) => Deno.readTextFile(`${dir}/${f}`);
    return {
      ca: await read("ca.pem"),
      cert: await read("server.pem"),
      key: await read("server.key"),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

let host = env("TB_HOST");
let accessToken = env("TB_ACCESS_TOKEN");
let port = Number(env("TB_PORT") ?? 8883);
const caPath = env("TB_CA_CERT");
let caCerts = caPath ? [await Deno.readTextFile(caPath)] : undefined;

const emulator = host === undefined || accessToken === undefined
  ? await (async () => {
    const { ca, cert, key } = await makeCertificates();
    caCerts = [ca];
    const tb = await startEmulator({ port: 0, tls: { cert, key, port: 0 } });
    tb.createDevice({ name: "tls-device", accessToken: "tls-device-token" });
    return tb;
  })()
  : undefined;
if (emulator) {
  host = emulator.host;
  port = emulator.tlsPort!;
  accessToken = "tls-device-token";
  console.log(
    `TB_HOST/TB_ACCESS_TOKEN not set (or not allowed by --allow-env): using the emulator's TLS listener on ${host}:${port}`,
  );
}
try {
  await using client = new TBDeviceMqttClient({
    host: host!,
    port,
    accessToken: accessToken!,
    // `true` verifies against the system roots; `caCerts` adds a private CA.
    tls: caCerts ? { caCerts } : true,
  });
  await client.connect();
  await client.sendTelemetry({ secure: true });
  console.log("Connected over TLS with a verified server certificate and sent telemetry");
} finally {
  await emulator?.close();
}
