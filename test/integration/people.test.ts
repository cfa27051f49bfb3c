import { expect } from "chai";
import type { PeopleResponse, PeopleSearchResponse } from "../../appservice/shared/peopleApi.js";
import { PeopleRoute } from "../../appservice/shared/peopleApi.js";
import { WIDGET_API_PREFIX } from "../../appservice/shared/widgetApiPaths.js";
import { startConsultScenario, type ConsultScenario } from "../harness/consultScenario.js";

describe("people in words through the widget API (real Synapse, the on-call schedule)", function () {
  let s: ConsultScenario;
  before(async function () {
    s = await startConsultScenario();
    // Lena shares no room with the bots yet: where profiles show only to people who share a room,
    // her name comes from the staff directory.
    await s.people.lena.client.setDisplayName("Dr Lena Okafor");
  });
  after(async () => s?.stop());

  const query = (ids: string[]) => `${PeopleRoute.people}?user_id=${ids.map(encodeURIComponent).join(",")}`;

  it("names each person with their display name and where they are on call now", async function () {
    const { lena, wendy } = s.people;
    const api = await s.widgetSession(wendy);
    const unknown = `@nobody-here:${s.hs.serverName}`;
    const res = await api.call("GET", query([lena.userId, wendy.userId, unknown]));
    expect(res.status, JSON.stringify(res.json)).to.equal(200);
    const people = (res.json as unknown as PeopleResponse).people;
    expect(people.find((p) => p.user_id === lena.userId)).to.deep.equal({
      user_id: lena.userId,
      display_name: "Dr Lena Okafor",
      on_call: [{ service: "cardiology", service_name: "Cardiology", level: "primary" }],
    });
    expect(people.find((p) => p.user_id === wendy.userId)?.on_call).to.deep.equal([]);
    expect(people.find((p) => p.user_id === unknown)).to.deep.equal({ user_id: unknown, display_name: null, on_call: [] });
  });

  it("searches the staff directory by name, without Rounds' own bots", async function () {
    const api = await s.widgetSession(s.people.wendy);
    const res = await api.call("GET", `${PeopleRoute.search}?q=${encodeURIComponent("Okafor")}`);
    expect(res.status, JSON.stringify(res.json)).to.equal(200);
    const found = res.json as unknown as PeopleSearchResponse;
    expect(found.people.map((p) => p.user_id)).to.deep.equal([s.people.lena.userId]);
    expect(found.people[0]!.on_call[0]?.service_name).to.equal("Cardiology");
    const bots = await api.call("GET", `${PeopleRoute.search}?q=rounds_`);
    expect((bots.json as unknown as PeopleSearchResponse).people.filter((p) => p.user_id.startsWith("@rounds_"))).to.deep.equal([]);
  });

  it("refuses bad lookups with the field named, and any call without a session", async function () {
    const api = await s.widgetSession(s.people.wendy);
    const tooMany = Array.from({ length: 51 }, (_, i) => `@u${i}:${s.hs.serverName}`);
    const cases: [string, RegExp][] = [
      [PeopleRoute.people, /^user_id: /],
      [query(["not-an-id"]), /^user_id\.0: must be a Matrix user id/],
      [query(tooMany), /^user_id: name at most 50 user_ids/],
      [`${PeopleRoute.search}?q=a`, /^q: type at least 2 characters/],
      [`${PeopleRoute.search}?q=ok&limit=500`, /^limit: /],
    ];
    for (const [path, error] of cases) {
      const res = await api.call("GET", path);
      expect(res.status, path).to.equal(400);
      expect(res.json.errcode, path).to.equal("M_BAD_JSON");
      expect(String(res.json.error), path).to.match(error);
    }
    const anonymous = await fetch(`${s.rounds.url}${WIDGET_API_PREFIX}${query([s.people.lena.userId])}`);
    expect(anonymous.status).to.equal(401);
  });
});
