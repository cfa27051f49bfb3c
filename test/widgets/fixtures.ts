import type { ConsultState } from "../../appservice/shared/events/index.js";
import type { ConsultView, ServicesResponse } from "../../appservice/shared/consultWidgetApi.js";
import type { ConsultApi } from "../../widgets/lib/consultApi.js";

export const ROOM = "!consult:rounds.test";
export const REQUESTER = "@requester:rounds.test";
export const CARDIO = "@cardio:rounds.test";
export const CARDIO2 = "@cardio2:rounds.test";
export const NOW = Date.now();

export function consultState(over: Partial<ConsultState> = {}): ConsultState {
  return {
    id: "01JCONSULT",
    number: 7,
    service: "cardiology",
    urgency: "urgent",
    status: "requested",
    requester: REQUESTER,
    consultant: null,
    candidates: [CARDIO],
    declined_by: [],
    care_team: [],
    preferred: null,
    step: 0,
    exhausted: false,
    created_ts: NOW - 5 * 60_000,
    accept_by_ts: NOW + 10 * 60_000,
    accepted_ts: null,
    expected_response_minutes: null,
    respond_by_ts: null,
    overdue: false,
    started_ts: null,
    completed_ts: null,
    cancelled_ts: null,
    report_event_id: null,
    ...over,
  };
}

export function consultView(over: Partial<ConsultView> = {}): ConsultView {
  return {
    ...consultState(),
    room_id: ROOM,
    billing_suggestion: null,
    rating: null,
    outcome: null,
    time_to_accept_s: null,
    time_to_complete_s: null,
    ...over,
  };
}

export const SERVICES: ServicesResponse = {
  services: [
    { id: "cardiology", name: "Cardiology", timezone: "Europe/London" },
    { id: "nephrology", name: "Nephrology", timezone: "Europe/London" },
  ],
  max_attachment_bytes: 1024 * 1024,
  expected_response_minutes: { emergent: 15, urgent: 60, routine: 240 },
};

/** A fake API: each call is recorded; a call the test did not set up fails loudly. */
export function fakeApi(impl: Partial<ConsultApi> = {}) {
  const calls: { name: keyof ConsultApi; args: unknown[] }[] = [];
  const names: (keyof ConsultApi)[] = ["services", "specialists", "createConsult", "consult", "accept", "decline", "start", "complete", "cancel", "feedback", "mine", "metrics"];
  const defaults: Partial<ConsultApi> = {
    services: async () => SERVICES,
    specialists: async (service) => ({ service, specialists: [] }),
    consult: async () => ({ consult: consultView() }),
  };
  const api = Object.fromEntries(
    names.map((name) => [
      name,
      (...args: unknown[]) => {
        calls.push({ name, args });
        const f = (impl[name] ?? defaults[name]) as ((...a: unknown[]) => Promise<unknown>) | undefined;
        return f ? f(...args) : Promise.reject(new Error(`unexpected API call ${name}`));
      },
    ]),
  ) as unknown as ConsultApi;
  const callsTo = (name: keyof ConsultApi) => calls.filter((c) => c.name === name).map((c) => c.args);
  return { api, calls, callsTo };
}

/**
 * Pins Date.now to NOW for each test: relative times ("overdue by 3 min") are rendered from the
 * clock, and mocha loads these fixtures long before a full run reaches the widget tests.
 */
export function pinClockToNow(): void {
  const real = Date.now;
  beforeEach(() => {
    Date.now = () => NOW;
  });
  afterEach(() => {
    Date.now = real;
  });
}
