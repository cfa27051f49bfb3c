import { Hl7Message, Hl7Segment } from "@medplum/core";

/**
 * What Rounds reads from an inbound HL7 v2 message: lab results (ORU^R01) and the admissions,
 * transfers and discharges (ADT A01/A02/A03/A08) that say where a patient is and who their
 * attending is. Parsing is @medplum/core's; this module only picks the fields out and refuses,
 * naming the segment and field, what an alert cannot be built from. A refusal's text names
 * positions, never values: it goes back in the ACK and into the log.
 */

/** OBX-8 abnormal flags Rounds acts on (HL7 table 0078); anything else is kept as "other". */
export const ABNORMAL_FLAGS = ["L", "H", "LL", "HH", "A", "AA", "N"] as const;
export type AbnormalFlag = (typeof ABNORMAL_FLAGS)[number];

/** OBX-11 result status (HL7 table 0085), by what it means to an alert. */
const RESULT_STATUS = {
  F: "final",
  C: "corrected",
  P: "preliminary",
  S: "preliminary",
  R: "preliminary",
  U: "final",
  X: "cancelled",
  D: "cancelled",
  W: "cancelled",
  I: "pending",
} as const;
export type ResultStatus = (typeof RESULT_STATUS)[keyof typeof RESULT_STATUS];

export const ADT_TRIGGERS = ["A01", "A02", "A03", "A08"] as const;
export type AdtTrigger = (typeof ADT_TRIGGERS)[number];

export interface PatientId {
  /** PID-3.1, e.g. an MRN. PHI: it travels only in encrypted events and encrypted storage. */
  id: string;
  /** PID-3.4, the assigning authority, when sent. */
  authority: string;
}

export interface MessageHeader {
  /** MSH-10: the sender's message control id, unique per sender; a retry repeats it. */
  controlId: string;
  sendingApplication: string;
  sendingFacility: string;
  /** MSH-12 */
  version: string;
}

export interface LabResult {
  /** OBX-1, or the OBX's position when the sender leaves it empty. */
  setId: number;
  /**
   * Which result this is, across messages: the order (OBR-3 filler number, else OBR-2 placer
   * number), the test and OBX-4. A correction repeats it. An identifier: kept only hashed.
   */
  identity: string;
  /** OBX-3.1 and its coding system (OBX-3.3), e.g. "2823-3" in "LN" (LOINC). */
  code: string;
  codeSystem: string;
  display: string;
  /** OBX-2 */
  valueType: string;
  /** OBX-5 as sent, and as a number when it is one (NM, or SN without a comparator). */
  value: string;
  numeric: number | null;
  /** SN's comparator (">9.5", "<0.5"): the value is beyond `numeric`, not equal to it. */
  comparator: "<" | ">" | "<=" | ">=" | null;
  /** OBX-6.1, and OBX-6.2: labs put the unit in either (`CD:289^mg/dL`). */
  units: string;
  unitsText: string;
  /** OBX-7 */
  referenceRange: string;
  /** OBX-8, possibly repeated; flags outside table 0078's common set are dropped. */
  flags: AbnormalFlag[];
  status: ResultStatus;
  /** OBX-14 (else OBR-7), as an ISO time, when sent. */
  observedAt: string | null;
}

export interface LabReport {
  kind: "results";
  header: MessageHeader;
  patient: PatientId;
  /** PV1-3.1 and PV1-7.1 when the ORU carries a visit. */
  unit: string | null;
  attending: string | null;
  /** OBR-4.1 of each order in the message, in order. */
  orders: string[];
  results: LabResult[];
}

export interface AdtEvent {
  kind: "adt";
  header: MessageHeader;
  trigger: AdtTrigger;
  patient: PatientId;
  /** PV1-3.1, the point of care; null after a discharge (A03) or when not sent. */
  unit: string | null;
  /** PV1-7.1, the attending doctor's id. */
  attending: string | null;
}

export type InboundMessage = LabReport | AdtEvent;

/** HL7 table 0357 error codes Rounds answers with. */
export const Hl7ErrorCode = {
  SegmentSequence: "100",
  RequiredFieldMissing: "101",
  DataType: "102",
  TableValue: "103",
  UnsupportedMessageType: "200",
  UnsupportedEvent: "201",
  ApplicationInternal: "207",
} as const;
type Hl7ErrorCode = (typeof Hl7ErrorCode)[keyof typeof Hl7ErrorCode];

/**
 * A message Rounds will not take: AR (rejected, the message itself is unacceptable: unsupported
 * type, broken structure) or AE (accepted for processing but in error: a field is wrong). The
 * reason names where, never what.
 */
export class Hl7Refusal extends Error {
  constructor(
    readonly ack: "AE" | "AR",
    readonly code: Hl7ErrorCode,
    readonly reason: string,
    /** ERR-2, e.g. "OBX^2^5" (segment, its sequence, field). */
    readonly location = "",
  ) {
    super(reason);
  }

  /** The ERR segment (v2.5 layout) for the ACK. */
  errSegment(): Hl7Segment {
    return new Hl7Segment(["ERR", "", this.location, `${this.code}^${ERROR_TEXT[this.code]}^HL70357`, "E", "", "", "", this.reason]);
  }
}

const ERROR_TEXT: Record<Hl7ErrorCode, string> = {
  "100": "Segment sequence error",
  "101": "Required field missing",
  "102": "Data type error",
  "103": "Table value not found",
  "200": "Unsupported message type",
  "201": "Unsupported event code",
  "207": "Application internal error",
};

const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)$/;

function parse(text: string): Hl7Message {
  const trimmed = text.replace(/^[\r\n]+/, "");
  if (!trimmed.startsWith("MSH") || trimmed.length < 8) {
    throw new Hl7Refusal("AR", Hl7ErrorCode.SegmentSequence, "the message does not start with an MSH segment and its encoding characters", "MSH");
  }
  try {
    return Hl7Message.parse(trimmed);
  } catch {
    throw new Hl7Refusal("AR", Hl7ErrorCode.SegmentSequence, "the message could not be parsed as HL7 v2", "MSH");
  }
}

function header(msg: Hl7Message): MessageHeader {
  const msh = msg.header;
  const controlId = msh.getComponent(10, 1).trim();
  if (!controlId) throw new Hl7Refusal("AR", Hl7ErrorCode.RequiredFieldMissing, "MSH-10 (message control id) is empty", "MSH^1^10");
  if (controlId.length > 199) throw new Hl7Refusal("AR", Hl7ErrorCode.DataType, "MSH-10 (message control id) is longer than 199 characters", "MSH^1^10");
  return {
    controlId,
    sendingApplication: msh.getComponent(3, 1),
    sendingFacility: msh.getComponent(4, 1),
    version: msh.getComponent(12, 1),
  };
}

function patient(msg: Hl7Message): PatientId {
  const pid = msg.getSegment("PID");
  if (!pid) throw new Hl7Refusal("AE", Hl7ErrorCode.RequiredFieldMissing, "the message has no PID segment", "PID");
  const id = pid.getComponent(3, 1).trim();
  if (!id) throw new Hl7Refusal("AE", Hl7ErrorCode.RequiredFieldMissing, "PID-3 (patient identifier) is empty", "PID^1^3");
  return { id, authority: pid.getComponent(3, 4).trim() };
}

function visit(msg: Hl7Message): { unit: string | null; attending: string | null } {
  const pv1 = msg.getSegment("PV1");
  const unit = pv1?.getComponent(3, 1).trim() || null;
  const attending = pv1?.getComponent(7, 1).trim() || null;
  return { unit, attending };
}

/** HL7 DTM (YYYY[MM[DD[HH[MM[SS[.S+]]]]]][+/-ZZZZ]) as ISO; null when absent, refused when malformed. */
function time(value: string, where: string, what: string): string | null {
  const v = value.trim();
  if (!v) return null;
  const m = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,4}))?([+-]\d{4})?$/.exec(v);
  if (!m) throw new Hl7Refusal("AE", Hl7ErrorCode.DataType, `${what} is not an HL7 date and time`, where);
  const [, y, mo = "01", d = "01", h = "00", mi = "00", s = "00", frac = "0", zone] = m;
  const offset = zone ? `${zone.slice(0, 3)}:${zone.slice(3)}` : "Z";
  const iso = `${y}-${mo}-${d}T${h}:${mi}:${s}.${frac.padEnd(3, "0").slice(0, 3)}${offset}`;
  const at = new Date(iso);
  // new Date rolls 30 February over to March: a date must read back as written.
  const day = new Date(`${y}-${mo}-${d}T00:00:00Z`);
  const sameDay = !Number.isNaN(day.getTime()) && day.toISOString().slice(0, 10) === `${y}-${mo}-${d}`;
  if (Number.isNaN(at.getTime()) || !sameDay) throw new Hl7Refusal("AE", Hl7ErrorCode.DataType, `${what} is not a valid date and time`, where);
  return at.toISOString();
}

function result(obx: Hl7Segment, position: number, order: { id: string; time: string | null }): LabResult {
  const setId = Number(obx.getComponent(1, 1)) || position;
  const at = (field: number) => `OBX^${position}^${field}`;
  const code = obx.getComponent(3, 1).trim();
  if (!code) throw new Hl7Refusal("AE", Hl7ErrorCode.RequiredFieldMissing, `OBX ${position}: OBX-3 (observation identifier) is empty`, at(3));
  const statusCode = obx.getComponent(11, 1).trim();
  const status = RESULT_STATUS[statusCode as keyof typeof RESULT_STATUS];
  if (!status) throw new Hl7Refusal("AE", Hl7ErrorCode.TableValue, `OBX ${position}: OBX-11 (result status) is not a status of HL7 table 0085`, at(11));
  const valueType = obx.getComponent(2, 1).trim();
  // OBX-5 may repeat and have components (SN: comparator^number); the first repetition is the value.
  const field5 = obx.getField(5);
  const value = field5 ? (valueType === "SN" ? field5.components[0]!.join("") : (field5.components[0]?.[0] ?? "")) : "";
  let numeric: number | null = null;
  let comparator: LabResult["comparator"] = null;
  if (valueType === "NM") {
    if (value.trim() && !NUMERIC.test(value.trim())) throw new Hl7Refusal("AE", Hl7ErrorCode.DataType, `OBX ${position}: OBX-5 is not a number although OBX-2 says NM`, at(5));
    numeric = value.trim() ? Number(value) : null;
  } else if (valueType === "SN") {
    const [cmp = "", num = ""] = field5?.components[0] ?? [];
    if (NUMERIC.test(num.trim()) && ["", "=", "<", ">", "<=", ">="].includes(cmp)) {
      numeric = Number(num);
      comparator = cmp === "" || cmp === "=" ? null : (cmp as LabResult["comparator"]);
    }
  }
  const flagField = obx.getField(8);
  const flags = (flagField?.components ?? [])
    .map((rep) => (rep[0] ?? "").trim().toUpperCase())
    .filter((f): f is AbnormalFlag => (ABNORMAL_FLAGS as readonly string[]).includes(f));
  return {
    setId,
    identity: [order.id, obx.getComponent(3, 3).trim(), code, obx.getComponent(4, 1).trim()].join("|"),
    code,
    codeSystem: obx.getComponent(3, 3).trim(),
    display: obx.getComponent(3, 2).trim(),
    valueType,
    value,
    numeric,
    comparator,
    units: obx.getComponent(6, 1).trim(),
    unitsText: obx.getComponent(6, 2).trim(),
    referenceRange: obx.getComponent(7, 1).trim(),
    flags,
    status,
    observedAt: time(obx.getComponent(14, 1), at(14), `OBX ${position}: OBX-14 (observation time)`) ?? order.time,
  };
}

function labReport(msg: Hl7Message, head: MessageHeader): LabReport {
  const pt = patient(msg);
  const obxs = msg.getAllSegments("OBX");
  if (obxs.length === 0) throw new Hl7Refusal("AE", Hl7ErrorCode.RequiredFieldMissing, "the ORU^R01 has no OBX segment", "OBX");
  // Each OBX belongs to the OBR before it; its time defaults to that order's (OBR-7).
  const results: LabResult[] = [];
  const orders: string[] = [];
  let order: { id: string; time: string | null } = { id: "", time: null };
  let seenOrder = false;
  let position = 0;
  for (const seg of msg.segments) {
    if (seg.name === "OBR") {
      seenOrder = true;
      orders.push(seg.getComponent(4, 1).trim());
      order = {
        // Without a filler or placer number, a correction cannot be told apart from another order.
        id: seg.getComponent(3, 1).trim() || seg.getComponent(2, 1).trim(),
        time: time(seg.getComponent(7, 1), `OBR^${orders.length}^7`, "OBR-7 (observation time)"),
      };
    } else if (seg.name === "OBX") {
      position++;
      if (!seenOrder) throw new Hl7Refusal("AR", Hl7ErrorCode.SegmentSequence, `OBX ${position} comes before any OBR`, `OBX^${position}`);
      results.push(result(seg, position, order));
    }
  }
  return { kind: "results", header: head, patient: pt, ...visit(msg), orders, results };
}

function adtEvent(msg: Hl7Message, head: MessageHeader, trigger: AdtTrigger): AdtEvent {
  const pt = patient(msg);
  const v = visit(msg);
  return { kind: "adt", header: head, trigger, patient: pt, unit: trigger === "A03" ? null : v.unit, attending: v.attending };
}

/** Reads one inbound message (text, or as the MLLP connection parsed it); throws Hl7Refusal for anything Rounds cannot take. */
export function readInboundMessage(input: string | Hl7Message): InboundMessage {
  const msg = typeof input === "string" ? parse(input) : input;
  const head = header(msg);
  const type = msg.header.getComponent(9, 1).trim();
  const trigger = msg.header.getComponent(9, 2).trim();
  if (type === "ORU") {
    if (trigger !== "R01") throw new Hl7Refusal("AR", Hl7ErrorCode.UnsupportedEvent, `ORU^${trigger || "(none)"} is not taken; send ORU^R01`, "MSH^1^9");
    return labReport(msg, head);
  }
  if (type === "ADT") {
    if (!(ADT_TRIGGERS as readonly string[]).includes(trigger)) {
      throw new Hl7Refusal("AR", Hl7ErrorCode.UnsupportedEvent, `ADT^${trigger || "(none)"} is not taken; Rounds reads A01, A02, A03 and A08`, "MSH^1^9");
    }
    return adtEvent(msg, head, trigger as AdtTrigger);
  }
  throw new Hl7Refusal("AR", Hl7ErrorCode.UnsupportedMessageType, `${type || "(no type)"} messages are not taken; Rounds reads ORU^R01 and ADT A01/A02/A03/A08`, "MSH^1^9");
}

/**
 * The ACK for `text`: AA once it is stored, else AE/AR with the refusal's ERR segment. A message
 * too broken to read its header still gets an AR, with what could be read.
 */
export function ackFor(original: string | Hl7Message, refusal?: Hl7Refusal): Hl7Message {
  let msg: Hl7Message;
  try {
    msg = typeof original === "string" ? Hl7Message.parse(original.replace(/^[\r\n]+/, "")) : original;
  } catch {
    msg = Hl7Message.parse("MSH|^~\\&|||||||ACK||P|2.5.1");
  }
  return refusal ? msg.buildAck({ ackCode: refusal.ack, errSegment: refusal.errSegment() }) : msg.buildAck({ ackCode: "AA" });
}
