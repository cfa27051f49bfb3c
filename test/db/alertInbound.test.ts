import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import tls from "node:tls";
import { Hl7Message } from "@medplum/core";
import { Hl7Client } from "@medplum/hl7";
import { expect } from "chai";
import { parseSourcesFile, type AlertSource } from "../../appservice/alert/alertSources.js";
import { startMllpListener, type MllpListener } from "../../appservice/alert/hl7/mllpListener.js";
import { InboundStore, INBOUND_AT_REST_PURPOSE } from "../../appservice/alert/inboundStore.js";
import * as m014 from "../../appservice/alert/migrations/014_alerts.js";
import * as m015 from "../../appservice/alert/migrations/015_alert_reads_medications_orders.js";
import { migrate, type Db } from "../../appservice/db/connect.js";
import { createLogger } from "../../appservice/logging.js";
import { AtRest } from "../../appservice/shared/atRest.js";
import { backends } from "../harness/backends.js";
import { tempDir } from "../harness/tempDir.js";

/**
 * The HL7 v2 listener down to the database, on every backend: a real TCP (and TLS) listener,
 * a kept library's MLLP client as the sender, and the inbound ledger that an ACK waits for.
 */
const log = createLogger("silent");
const MRN = "MRN77123";
const oru = (control: string, status = "F", facility = "GENHOSP") =>
  [
    `MSH|^~\\&|LAB|${facility}|ROUNDS|GENHOSP|20261203101500||ORU^R01^ORU_R01|${control}|P|2.5.1`,
    `PID|1||${MRN}^^^GENHOSP^MR||DOE^JANE`,
    "OBR|1|ORD1|FIL1|24323-8^Metabolic panel^LN|||20261203094500",
    `OBX|1|NM|2823-3^Potassium^LN||6.8|mmol/L|3.5-5.1|HH|||${status}`,
  ].join("\r");

const sourcesYaml = (extra = "") => `
sources:
  - id: lab
    kind: mllp
    allow: ["127.0.0.1", "::1"]
    sending_facility: GENHOSP
    max_bytes: 4096
    per_minute: 50
${extra}`;

/** Writes one MLLP frame (or its start only) on a plain socket; what comes back, and when it closes. */
async function rawMllp(port: number, text: string, opts: { endFrame?: boolean } = {}): Promise<{ received: Buffer[]; closed: Promise<void> }> {
  const socket = net.connect(port, "127.0.0.1");
  const received: Buffer[] = [];
  socket.on("data", (c: Buffer) => received.push(c));
  socket.on("error", () => undefined); // a reset is one way of being closed
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  socket.write(Buffer.concat([Buffer.from([0x0b]), Buffer.from(text), Buffer.from(opts.endFrame === false ? [] : [0x1c, 0x0d])]));
  return { received, closed };
}

const ackCode = (ack: Hl7Message) => ack.getSegment("MSA")!.getComponent(1, 1);
const errText = (ack: Hl7Message) => ack.getSegment("ERR")?.getField(8).toString() ?? "";

for (const backend of backends) {
  describe(`the HL7 v2 MLLP listener, on ${backend.name}`, function () {
    let db: Db;
    let close: () => Promise<void>;
    let store: InboundStore;
    let listener: MllpListener | undefined;
    let failNext = false;

    async function listen(sources: AlertSource[], tlsOpts?: { cert: string; key: string }) {
      await listener?.close();
      listener = await startMllpListener({
        host: "127.0.0.1",
        port: 0,
        tls: tlsOpts,
        sources: () => sources,
        log,
        accept: async ({ source, text, message }) => {
          if (failNext) {
            failNext = false;
            throw new Error("database unavailable");
          }
          await store.record({ source: source.id, key: message.header.controlId, kind: "hl7v2", type: message.kind === "results" ? "ORU^R01" : `ADT^${message.trigger}`, payload: text });
        },
      });
      return listener.port;
    }

    async function send(port: number, ...messages: string[]): Promise<Hl7Message[]> {
      const client = new Hl7Client({ host: "127.0.0.1", port });
      try {
        const acks: Hl7Message[] = [];
        for (const m of messages) acks.push(await client.sendAndWait(Hl7Message.parse(m), { timeoutMs: 10_000 }));
        return acks;
      } finally {
        await client.close();
      }
    }

    before(async function () {
      ({ db, close } = await backend.open());
      await migrate(db, [{ "014_alerts": m014, "015_alert_reads_medications_orders": m015 }]);
      store = new InboundStore(db, new AtRest("a-long-enough-passphrase-0123", INBOUND_AT_REST_PURPOSE));
    });
    beforeEach(async function () {
      await db("alert_inbound").delete();
    });
    after(async function () {
      await listener?.close();
      await close();
    });

    it("acknowledges AA only once the message is stored, sealed, and records a sender's retry once", async function () {
      const port = await listen(parseSourcesFile(sourcesYaml(), {}));
      const [first, retry] = await send(port, oru("CTRL-1"), oru("CTRL-1"));
      expect(ackCode(first!)).to.equal("AA");
      expect(first!.getSegment("MSA")!.getComponent(2, 1)).to.equal("CTRL-1");
      expect(ackCode(retry!)).to.equal("AA");
      expect(await store.count("lab")).to.equal(1);
      // The patient and the value are PHI: on disk only sealed.
      const row = (await db("alert_inbound").first()) as { sealed_payload: string; message_key: string; message_type: string };
      expect(row).to.include({ message_key: "CTRL-1", message_type: "ORU^R01" });
      expect(row.sealed_payload).not.to.contain(MRN).and.not.to.contain("|6.8|");
      const [pending] = await store.unprocessed();
      expect(pending!.payload).to.contain(MRN);
      await store.markProcessed(pending!.id);
      expect(await store.unprocessed()).to.deep.equal([]);
      expect(((await db("alert_inbound").first()) as { sealed_payload: string | null }).sealed_payload).to.equal(null);
    });

    it("takes a resend with a new send time as the same message, and refuses a control id reused for another message", async function () {
      const port = await listen(parseSourcesFile(sourcesYaml(), {}));
      const restamped = oru("CTRL-9").replace("20261203101500", "20261203101730");
      const [first, resent, reused] = await send(port, oru("CTRL-9"), restamped, oru("CTRL-9", "C"));
      expect([ackCode(first!), ackCode(resent!)]).to.deep.equal(["AA", "AA"]);
      expect([ackCode(reused!), errText(reused!)]).to.satisfy(([c, t]: string[]) => c === "AR" && /MSH-10.*already used for a different message/.test(t!));
      expect(await store.count()).to.equal(1);
    });

    it("answers a storage failure with AE, so the sender resends, and takes the resend", async function () {
      const port = await listen(parseSourcesFile(sourcesYaml(), {}));
      failNext = true;
      const [failed, resent] = await send(port, oru("CTRL-2"), oru("CTRL-2"));
      expect(ackCode(failed!)).to.equal("AE");
      expect(errText(failed!)).to.match(/could not store/);
      expect(ackCode(resent!)).to.equal("AA");
      expect(await store.count()).to.equal(1);
    });

    it("refuses a malformed segment, another facility, an oversized message and a burst past the rate, storing none of them", async function () {
      const port = await listen(parseSourcesFile(sourcesYaml().replace("per_minute: 50", "per_minute: 3"), {}));
      const huge = oru("CTRL-BIG") + "\r" + Array.from({ length: 80 }, (_, i) => `NTE|${i + 1}||${"x".repeat(60)}`).join("\r");
      const [badStatus, otherFacility, oversized] = await send(port, oru("CTRL-3", "Q"), oru("CTRL-4", "F", "OTHERHOSP"), huge);
      expect([ackCode(badStatus!), errText(badStatus!)]).to.satisfy(([c, t]: string[]) => c === "AE" && /OBX-11/.test(t!));
      expect([ackCode(otherFacility!), errText(otherFacility!)]).to.satisfy(([c, t]: string[]) => c === "AR" && /MSH-4/.test(t!));
      expect([ackCode(oversized!), errText(oversized!)]).to.satisfy(([c, t]: string[]) => c === "AR" && /4096 bytes/.test(t!));
      expect(await store.count()).to.equal(0);

      // The malformed and the oversized message counted against the source's three a minute
      // (the other facility's is not this source's): one more is taken, the next is not.
      const [taken, limited] = await send(port, oru("CTRL-5"), oru("CTRL-6"));
      expect(ackCode(taken!)).to.equal("AA");
      expect([ackCode(limited!), errText(limited!)]).to.satisfy(([c, t]: string[]) => c === "AE" && /resend it later/.test(t!));
      expect(await store.count()).to.equal(1);
    });

    it("cuts off a sender that streams past its size limit without ending the frame", async function () {
      const port = await listen(parseSourcesFile(sourcesYaml(), {}));
      const { received, closed } = await rawMllp(port, oru("CTRL-6") + "\r" + "NTE|1||" + "y".repeat(8000), { endFrame: false });
      await closed;
      const ack = Hl7Message.parse(Buffer.concat(received).toString().replace(/^\x0b|\x1c\r$/g, ""));
      expect(ackCode(ack)).to.equal("AR");
      expect(errText(ack)).to.match(/4096 bytes/);
      expect(await store.count()).to.equal(0);
    });

    it("closes a connection from an address no source allows, without an ACK", async function () {
      const port = await listen(parseSourcesFile(sourcesYaml().replace('["127.0.0.1", "::1"]', '["10.20.0.0/16"]'), {}));
      const { received, closed } = await rawMllp(port, oru("CTRL-7"));
      await closed;
      expect(Buffer.concat(received).length, "an unknown address got an answer").to.equal(0);
      expect(await store.count()).to.equal(0);
    });

    it("speaks MLLP over TLS and decodes a source's own character set", async function () {
      const dir = tempDir("mllp-tls");
      execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { stdio: "ignore" });
      const cert = readFileSync(join(dir, "cert.pem"), "utf8");
      const port = await listen(parseSourcesFile(sourcesYaml().replace("max_bytes: 4096", "max_bytes: 4096\n    encoding: latin1"), {}), { cert, key: readFileSync(join(dir, "key.pem"), "utf8") });
      const text = oru("CTRL-8") + "\rNTE|1||hémolysé";
      const socket = tls.connect({ host: "127.0.0.1", port, ca: cert });
      const data: Buffer[] = [];
      const ackBytes = new Promise<Buffer>((resolve, reject) => {
        socket.on("data", (c: Buffer) => {
          data.push(c);
          if (c.includes(0x1c)) resolve(Buffer.concat(data));
        });
        socket.once("error", reject);
      });
      await new Promise<void>((resolve) => socket.once("secureConnect", () => resolve()));
      socket.write(Buffer.concat([Buffer.from([0x0b]), Buffer.from(text, "latin1"), Buffer.from([0x1c, 0x0d])]));
      const ack = Hl7Message.parse((await ackBytes).toString("latin1").replace(/^\x0b|\x1c\r$/g, ""));
      socket.end();
      expect(ackCode(ack)).to.equal("AA");
      const [stored] = await store.unprocessed();
      expect(stored!.payload).to.contain("hémolysé");
    });
  });
}

describe("the alert sources file", function () {
  it("takes MLLP and FHIR sources with their limits, secrets from the environment", function () {
    const sources = parseSourcesFile(
      `${sourcesYaml()}
  - id: ehr
    kind: fhir
    auth: { bearer_token_env: EHR_TOKEN }
`,
      { EHR_TOKEN: "t".repeat(32) },
    );
    expect(sources.map((s) => [s.id, s.kind, s.max_bytes, s.per_minute])).to.deep.equal([
      ["lab", "mllp", 4096, 50],
      ["ehr", "fhir", 1024 * 1024, 600],
    ]);
    const ehr = sources[1]!;
    expect(ehr.kind === "fhir" && ehr.auth).to.deep.equal({ kind: "bearer", token: "t".repeat(32) });
  });

  it("refuses unknown keys by name, bad addresses and encodings, duplicate ids and missing or short secrets, all at once", function () {
    let problems: string[] = [];
    try {
      parseSourcesFile(
        `
sources:
  - id: lab
    kind: mllp
    allow: ["127.0.0.1", "300.1.1.1", "10.0.0.0/40"]
    encodng: latin1
  - id: lab
    kind: mllp
    allow: ["::1"]
    encoding: klingon
  - id: ehr
    kind: fhir
    auth: { hmac_secret_env: EHR_KEY }
  - id: ehr2
    kind: fhir
    auth: { bearer_token_env: EHR2_TOKEN }
`,
        { EHR2_TOKEN: "short" },
      );
    } catch (err) {
      problems = (err as { problems: string[] }).problems;
    }
    expect(problems).to.have.length.greaterThan(0);
    expect(problems.join("\n")).to.match(/unknown key 'encodng' at sources\.0; did you mean 'encoding'\?/);
    // Unknown keys are reported first, and alone: the rest of the file is checked once they are fixed.
    let rest: string[] = [];
    try {
      parseSourcesFile(
        `
sources:
  - { id: lab, kind: mllp, allow: ["127.0.0.1", "300.1.1.1", "10.0.0.0/40"] }
  - { id: lab, kind: mllp, allow: ["::1"], encoding: klingon }
  - { id: ehr, kind: fhir, auth: { hmac_secret_env: EHR_KEY } }
  - { id: ehr2, kind: fhir, auth: { bearer_token_env: EHR2_TOKEN } }
`,
        { EHR2_TOKEN: "short" },
      );
    } catch (err) {
      rest = (err as { problems: string[] }).problems;
    }
    expect(rest).to.include.members([
      "sources.0.allow.1: '300.1.1.1' is not an IP address or CIDR block",
      "sources.0.allow.2: '/40' is not a prefix length for ipv4",
      "sources.1.id: 'lab' is defined twice",
      "sources.1.encoding: 'klingon' is not a character set Rounds knows (utf-8, latin1, windows-1252, …)",
      "sources.2.auth: the environment variable EHR_KEY is not set; set it to a long random value",
      "sources.3.auth: the environment variable EHR2_TOKEN is shorter than 24 characters; set it to a long random value",
    ]);
  });
});
