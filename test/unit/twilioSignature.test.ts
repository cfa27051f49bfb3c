import { expect } from "chai";
import twilio from "twilio";
import { verifyTwilioSignature, webhookUrl } from "../../appservice/sms/twilioSignature.js";
import { twilioSignature } from "../harness/fakeTwilio.js";

const TOKEN = "12345678901234567890123456789012";
const URL = "https://rounds.example.org/_rounds/twilio/inbound";
const PARAMS = { MessageSid: "SM" + "a".repeat(32), From: "+15550001111", To: "+15550002222", Body: "42" };

describe("Twilio webhook signatures", function () {
  it("accepts a request signed with our token over the configured URL", function () {
    const sig = twilioSignature(TOKEN, URL, PARAMS);
    expect(verifyTwilioSignature(TOKEN, sig, URL, PARAMS)).to.equal(true);
  });

  it("rejects a request whose body was changed after signing", function () {
    const sig = twilioSignature(TOKEN, URL, PARAMS);
    expect(verifyTwilioSignature(TOKEN, sig, URL, { ...PARAMS, Body: "43" })).to.equal(false);
    expect(verifyTwilioSignature(TOKEN, sig, URL, { ...PARAMS, Extra: "1" })).to.equal(false);
  });

  it("rejects a signature made for another URL", function () {
    const sig = twilioSignature(TOKEN, "https://attacker.example.net/_rounds/twilio/inbound", PARAMS);
    expect(verifyTwilioSignature(TOKEN, sig, URL, PARAMS)).to.equal(false);
    const query = twilioSignature(TOKEN, `${URL}?page=42`, PARAMS);
    expect(verifyTwilioSignature(TOKEN, query, URL, PARAMS)).to.equal(false);
  });

  it("rejects a signature made with another auth token", function () {
    const sig = twilioSignature("another-token-another-token-1234", URL, PARAMS);
    expect(verifyTwilioSignature(TOKEN, sig, URL, PARAMS)).to.equal(false);
  });

  it("rejects a missing or empty signature header", function () {
    expect(verifyTwilioSignature(TOKEN, undefined, URL, PARAMS)).to.equal(false);
    expect(verifyTwilioSignature(TOKEN, "", URL, PARAMS)).to.equal(false);
  });

  it("the fake Twilio's signer agrees with the twilio package", function () {
    const cases: Array<[string, Record<string, string>]> = [
      [URL, PARAMS],
      [`${URL}?a=1&b=two`, { Body: "ack 42 & thanks <3", From: "+441234567890" }],
      ["http://127.0.0.1:8080/_rounds/twilio/status", { MessageStatus: "delivered", ErrorCode: "", Body: "réponse ✓" }],
      [URL, {}],
    ];
    for (const [url, params] of cases) {
      expect(twilioSignature(TOKEN, url, params)).to.equal(twilio.getExpectedTwilioSignature(TOKEN, url, params));
    }
  });

  it("builds the checked URL from the configured public base, with or without a trailing slash", function () {
    expect(webhookUrl("https://rounds.example.org", "/_rounds/twilio/inbound")).to.equal(URL);
    expect(webhookUrl("https://rounds.example.org/", "/_rounds/twilio/inbound")).to.equal(URL);
    expect(webhookUrl("https://example.org/rounds/", "_rounds/twilio/inbound?x=1")).to.equal("https://example.org/rounds/_rounds/twilio/inbound?x=1");
  });
});
