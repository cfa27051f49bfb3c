import { expect } from "chai";
import { useState } from "preact/hooks";
import { act } from "preact/test-utils";
import type { PersonView } from "../../appservice/shared/peopleApi.js";
import { PeopleContext, PeopleCache, type PeopleApi } from "../../widgets/lib/people.js";
import { PeopleField, PersonPicker } from "../../widgets/lib/PersonPicker.js";
import { button, fill, mount, settle, text, useDom } from "./dom.js";

const LENA: PersonView = { user_id: "@lena:rounds.test", display_name: "Dr Lena Okafor", on_call: [{ service: "cardiology", service_name: "Cardiology", level: "primary" }] };
const LEON: PersonView = { user_id: "@leon:rounds.test", display_name: "Dr Leon Oakes", on_call: [] };
const GP: PersonView = { user_id: "@gp:clinic.example", display_name: "Dr Sam Hill", on_call: [] };

const api: PeopleApi & { searches: string[] } = {
  searches: [],
  people: async (ids) => ({ people: [LENA, LEON, GP].filter((p) => ids.includes(p.user_id)) }),
  search: async (term) => {
    api.searches.push(term);
    return { people: [LENA, LEON].filter((p) => p.display_name!.toLowerCase().includes(term.toLowerCase())), limited: false };
  },
};

async function key(el: HTMLElement, k: string): Promise<void> {
  await act(() => {
    el.dispatchEvent(new window.KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true }));
  });
  await settle();
}

function withPeople(node: preact.ComponentChild) {
  return <PeopleContext.Provider value={new PeopleCache(api, "rounds.test")}>{node}</PeopleContext.Provider>;
}

describe("person picker", function () {
  useDom();

  function OnePerson() {
    const [value, setValue] = useState("");
    return (
      <>
        <PersonPicker id="who" label="Incoming clinician" value={value} onValue={setValue} searchAfterMs={0} />
        <output>{value}</output>
      </>
    );
  }

  it("finds people by name and is used by keyboard: arrows move, Enter chooses, Escape closes", async function () {
    const root = await mount(withPeople(<OnePerson />));
    const input = root.querySelector<HTMLInputElement>("#who")!;
    expect(input.getAttribute("role")).to.equal("combobox");
    await act(() => input.focus());
    await fill(input, "o");
    await settle();
    expect(api.searches, "one letter is not searched").to.deep.equal([]);
    await fill(input, "Dr Le");
    await settle(6);
    const options = [...root.querySelectorAll('[role="option"]')];
    expect(options.map((o) => o.textContent)).to.deep.equal(["Dr Lena Okafor, Cardiology on call @lena:rounds.test", "Dr Leon Oakes @leon:rounds.test"]);
    expect(input.getAttribute("aria-expanded")).to.equal("true");

    await key(input, "ArrowDown");
    await key(input, "ArrowDown");
    expect(input.getAttribute("aria-activedescendant")).to.equal("who-options-1");
    await key(input, "ArrowUp");
    expect(input.getAttribute("aria-activedescendant")).to.equal("who-options-0");
    await key(input, "Enter");
    expect(root.querySelector("output")!.textContent).to.equal(LENA.user_id);
    expect(input.getAttribute("aria-expanded")).to.equal("false");
    expect(text(root)).to.include("Dr Lena Okafor, Cardiology on call");

    await fill(input, "Dr Leo");
    await settle(6);
    expect(input.getAttribute("aria-expanded")).to.equal("true");
    await key(input, "Escape");
    expect(input.getAttribute("aria-expanded")).to.equal("false");
  });

  function Team() {
    const [values, setValues] = useState<string[]>([]);
    const [pending, setPending] = useState("");
    return <PeopleField id="team" label="Care team members" values={values} onValues={setValues} pending={pending} onPending={setPending} searchAfterMs={0} />;
  }

  it("takes a partner clinic's clinician by full id, shown with their server, and removes a chosen person", async function () {
    const root = await mount(withPeople(<Team />));
    const input = root.querySelector<HTMLInputElement>("#team")!;
    await fill(input, GP.user_id);
    await key(input, "Enter");
    await settle(6);
    const chosen = root.querySelector('[aria-label="Care team members: chosen"]')!;
    expect(text(chosen as HTMLElement)).to.include("Dr Sam Hill (clinic.example)");
    expect(input.value).to.equal("");
    await act(() => button(root, `Remove ${GP.user_id}`).click());
    await settle();
    expect(root.querySelector('[aria-label="Care team members: chosen"]')).to.equal(null);
  });
});
