import { expect } from "chai";
import type { PersonView } from "../../appservice/shared/peopleApi.js";
import { People, PeopleContext, PeopleCache, Person, personLabel, type PeopleApi } from "../../widgets/lib/people.js";
import { mount, settle, text, useDom } from "./dom.js";

const LENA: PersonView = { user_id: "@lena:rounds.test", display_name: "Dr Lena Okafor", on_call: [{ service: "cardiology", service_name: "Cardiology", level: "primary" }] };
const GP: PersonView = { user_id: "@gp:clinic.example", display_name: "Dr Sam Hill", on_call: [] };

/** A people API that answers from a list and records each lookup. */
function fakeApi(known: PersonView[]): PeopleApi & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    people: async (ids) => {
      calls.push(ids);
      return { people: known.filter((p) => ids.includes(p.user_id)) };
    },
    search: async () => ({ people: [], limited: false }),
  };
}

describe("people in words", function () {
  useDom();

  it("names a person with their on-call role, adds the server only for another homeserver, and falls back to the id", function () {
    expect(personLabel(LENA.user_id, LENA, "rounds.test")).to.equal("Dr Lena Okafor, Cardiology on call");
    expect(personLabel(GP.user_id, GP, "rounds.test")).to.equal("Dr Sam Hill (clinic.example)");
    expect(personLabel("@nameless:rounds.test", { user_id: "@nameless:rounds.test", display_name: null, on_call: [] }, "rounds.test")).to.equal("nameless");
    expect(personLabel("@unknown:rounds.test", undefined, "rounds.test")).to.equal("@unknown:rounds.test");
  });

  it("looks up everyone a screen shows in one call, and shows the id on hover", async function () {
    const api = fakeApi([LENA, GP]);
    const directory = new PeopleCache(api, "rounds.test");
    const root = await mount(
      <PeopleContext.Provider value={directory}>
        <p>
          <Person id={LENA.user_id} /> asked <People ids={[GP.user_id, LENA.user_id]} joiner=" and " />
        </p>
      </PeopleContext.Provider>,
    );
    await settle();
    expect(text(root)).to.equal("Dr Lena Okafor, Cardiology on call asked Dr Sam Hill (clinic.example) and Dr Lena Okafor, Cardiology on call");
    expect(api.calls).to.deep.equal([[LENA.user_id, GP.user_id]]);
    expect(root.querySelector("span.person")?.getAttribute("title")).to.equal(LENA.user_id);
  });

  it("keeps showing ids when the lookup fails, and does not ask again for them", async function () {
    const api: PeopleApi & { calls: number } = {
      calls: 0,
      people: async () => {
        api.calls++;
        throw new Error("offline");
      },
      search: async () => ({ people: [], limited: false }),
    };
    const directory = new PeopleCache(api, "rounds.test");
    await directory.ensure([LENA.user_id]);
    await directory.ensure([LENA.user_id]);
    expect(directory.label(LENA.user_id)).to.equal(LENA.user_id);
    expect(api.calls).to.equal(1);
  });

  it("shows the id without a directory (a component rendered on its own)", async function () {
    const root = await mount(<Person id={LENA.user_id} />);
    expect(text(root)).to.equal(LENA.user_id);
    expect(root.querySelector("span.person")?.hasAttribute("title")).to.equal(false);
  });
});
