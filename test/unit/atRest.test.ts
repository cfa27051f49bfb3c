import { expect } from "chai";
import { AtRest } from "../../appservice/shared/atRest.js";

describe("encryption at rest", function () {
  const secret = '{"url":"mxc://rounds.test/abc","key":{"k":"c2VjcmV0LWtleQ"}}';

  it("seals so that the stored text reveals nothing, and opens with the same configuration", function () {
    const box = new AtRest("a-long-enough-passphrase-0123", "bot uploads");
    const sealed = box.seal(secret);
    expect(sealed).to.match(/^v1\./).and.not.contain("mxc://").and.not.contain("c2VjcmV0");
    expect(box.seal(secret)).to.not.equal(sealed); // a fresh IV each time
    expect(box.open(sealed)).to.equal(secret);
  });

  it("refuses a tampered value, another passphrase, another purpose and plain text", function () {
    const box = new AtRest("a-long-enough-passphrase-0123", "bot uploads");
    const sealed = box.seal(secret);
    const parts = sealed.split(".");
    const flipped = Buffer.from(parts[3]!, "base64");
    flipped[0] = flipped[0]! ^ 1;
    expect(() => box.open([parts[0], parts[1], parts[2], flipped.toString("base64")].join("."))).to.throw();
    expect(() => new AtRest("another-passphrase-0123456789", "bot uploads").open(sealed)).to.throw();
    expect(() => new AtRest("a-long-enough-passphrase-0123", "other purpose").open(sealed)).to.throw();
    expect(() => box.open(secret)).to.throw(/not a sealed value/);
  });

  it("digests an identifier the same way each time, differently per key and purpose, revealing nothing of it", function () {
    const box = new AtRest("a-long-enough-passphrase-0123", "alert messages");
    const d = box.digest("GENHOSP|MRN12345");
    expect(d).to.equal(box.digest("GENHOSP|MRN12345")).and.not.contain("MRN12345");
    expect(d).to.not.equal(box.digest("GENHOSP|MRN12346"));
    expect(d).to.not.equal(new AtRest("a-long-enough-passphrase-0123", "other purpose").digest("GENHOSP|MRN12345"));
    expect(d).to.not.equal(new AtRest("another-passphrase-0123456789", "alert messages").digest("GENHOSP|MRN12345"));
  });
});
