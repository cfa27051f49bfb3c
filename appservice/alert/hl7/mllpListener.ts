import net from "node:net";
import tls from "node:tls";
import { Hl7Connection, type Hl7ErrorEvent, type Hl7MessageEvent } from "@medplum/hl7";
import type { Hl7Message } from "@medplum/core";
import type { Logger } from "../../logging.js";
import { FixedWindowLimit } from "../../shared/fixedWindowLimit.js";
import { mllpSourcesFor, type AlertSource, type MllpSource } from "../alertSources.js";
import { ReusedKeyError } from "../inboundStore.js";
import { ackFor, Hl7ErrorCode, Hl7Refusal, readInboundMessage, type InboundMessage } from "./inboundMessage.js";

/** MLLP's frame: <VT> message <FS><CR>. */
const FS = 0x1c;

export interface MllpAccepted {
  source: MllpSource;
  /** The message as received (decoded with the source's character set). */
  text: string;
  message: InboundMessage;
}

export interface MllpListenerOptions {
  host: string;
  port: number;
  /** PEM certificate and key: the listener speaks MLLP over TLS. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** The configured sources, read for each connection (so a reloaded file applies to new ones). */
  sources: () => readonly AlertSource[];
  /** Stores the message; the ACK goes out only once this resolves. A refusal it throws is the ACK. */
  accept: (m: MllpAccepted) => Promise<void>;
  log: Logger;
}

export interface MllpListener {
  port: number;
  close(): Promise<void>;
}

/**
 * The HL7 v2 listener: MLLP over TCP, or over TLS, framed and decoded by @medplum/hl7. Only
 * addresses a source allows may connect; each message is checked against its source (MSH-4,
 * size, rate), read, stored through `accept`, and only then acknowledged AA. Anything refused
 * gets AE or AR with an ERR segment and is not stored. ACKs go out in the order messages came.
 */
export async function startMllpListener(opts: MllpListenerOptions): Promise<MllpListener> {
  const limits = new Map<string, FixedWindowLimit>();
  const limitOf = (s: MllpSource) => {
    let l = limits.get(s.id);
    if (!l) limits.set(s.id, (l = new FixedWindowLimit(s.per_minute, 60_000)));
    return l;
  };
  const open = new Set<net.Socket>();

  const onSocket = (socket: net.Socket) => {
    const address = socket.remoteAddress ?? "";
    const candidates = mllpSourcesFor(opts.sources(), address);
    if (candidates.length === 0) {
      // Unknown senders learn nothing, not even an ACK; the address is not PHI.
      opts.log.warn({ address }, "MLLP connection from an address no alert source allows; closed");
      socket.destroy();
      return;
    }
    open.add(socket);
    socket.once("close", () => open.delete(socket));
    socket.on("error", (err) => opts.log.debug({ address, err: err.message }, "MLLP socket error"));
    const maxBytes = Math.max(...candidates.map((s) => s.max_bytes));
    guardFrameSize(socket, maxBytes, opts.log);
    const connection = new Hl7Connection(socket, candidates[0]!.encoding);
    // One message at a time per connection, so ACKs keep the senders' order.
    let queue = Promise.resolve();
    const reply = (ack: Hl7Message) => {
      if (!socket.destroyed) connection.send(ack);
    };
    connection.addEventListener("message", (event: Hl7MessageEvent) => {
      queue = queue.then(async () => reply(await handle(event.message, candidates)));
    });
    connection.addEventListener("error", (event: Hl7ErrorEvent) => {
      // A frame that is not HL7 (no MSH): refused, with what little can be said.
      queue = queue.then(() => {
        opts.log.warn({ address, why: event.error.message }, "MLLP frame refused: not an HL7 v2 message");
        reply(ackFor("", new Hl7Refusal("AR", Hl7ErrorCode.SegmentSequence, "the frame does not hold an HL7 v2 message starting with MSH", "MSH")));
      });
    });
  };

  async function handle(msg: Hl7Message, candidates: MllpSource[]): Promise<Hl7Message> {
    const facility = msg.header.getComponent(4, 1).trim();
    const source = candidates.find((s) => s.sending_facility === undefined || s.sending_facility === facility);
    const controlId = msg.header.getComponent(10, 1).trim().slice(0, 64);
    try {
      if (!source) throw new Hl7Refusal("AR", Hl7ErrorCode.TableValue, "MSH-4 (sending facility) is not one this address may send for", "MSH^1^4");
      const text = msg.toString();
      // Every message of the source counts against its rate, refused or not: a flood is a flood.
      if (!limitOf(source).take(source.id)) {
        throw new Hl7Refusal("AE", Hl7ErrorCode.ApplicationInternal, `more than ${source.per_minute} messages in a minute from this source; resend it later`, "MSH");
      }
      if (Buffer.byteLength(text) > source.max_bytes) {
        throw new Hl7Refusal("AR", Hl7ErrorCode.ApplicationInternal, `the message is larger than this source's limit of ${source.max_bytes} bytes`, "MSH");
      }
      const message = readInboundMessage(msg);
      try {
        await opts.accept({ source, text, message });
      } catch (err) {
        if (err instanceof ReusedKeyError) throw new Hl7Refusal("AR", Hl7ErrorCode.DataType, "MSH-10 (message control id) was already used for a different message; give each message its own", "MSH^1^10");
        throw err;
      }
      opts.log.info({ source: source.id, controlId, type: `${msg.header.getComponent(9, 1)}^${msg.header.getComponent(9, 2)}` }, "HL7 message stored and acknowledged");
      return ackFor(msg);
    } catch (err) {
      if (err instanceof Hl7Refusal) {
        opts.log.warn({ source: source?.id, controlId, ack: err.ack, code: err.code, location: err.location, why: err.reason }, "HL7 message refused");
        return ackFor(msg, err);
      }
      // Not stored, so not AA: the sender resends it (an AE asks it to).
      opts.log.error({ source: source?.id, controlId, err: err instanceof Error ? err.message : String(err) }, "HL7 message could not be stored");
      return ackFor(msg, new Hl7Refusal("AE", Hl7ErrorCode.ApplicationInternal, "Rounds could not store the message; resend it", "MSH"));
    }
  }

  const server = opts.tls ? tls.createServer({ cert: opts.tls.cert, key: opts.tls.key, minVersion: "TLSv1.2" }, onSocket) : net.createServer(onSocket);
  server.on("tlsClientError", (err: Error, socket: net.Socket) => {
    opts.log.warn({ address: socket.remoteAddress, why: err.message }, "MLLP TLS handshake failed");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;
  opts.log.info({ host: opts.host, port, tls: !!opts.tls }, "MLLP listener started");
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of open) s.destroy();
      }),
  };
}

/**
 * A sender that streams past `maxBytes` without ending its frame is cut off: the frame is not
 * buffered further, it gets an AR, and the connection closes (nothing of it is stored).
 */
function guardFrameSize(socket: net.Socket, maxBytes: number, log: Logger): void {
  let pending = 0;
  socket.on("data", (chunk: Buffer) => {
    const end = chunk.lastIndexOf(FS);
    pending = end === -1 ? pending + chunk.length : chunk.length - end - 1;
    if (pending <= maxBytes) return;
    log.warn({ address: socket.remoteAddress, maxBytes }, "MLLP frame larger than its source allows; refused and closed");
    const ack = ackFor("", new Hl7Refusal("AR", Hl7ErrorCode.ApplicationInternal, `the message is larger than this source's limit of ${maxBytes} bytes`, "MSH"));
    socket.end(Buffer.concat([Buffer.from([0x0b]), Buffer.from(ack.toString()), Buffer.from([FS, 0x0d])]));
    socket.pause();
  });
}
