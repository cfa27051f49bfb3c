/**
 * Inputs that broke Rounds once, kept as fixed cases for every fuzz property: each was found by
 * hand or by the fuzzer and is named by what it did.
 */
export const hostileStrings: string[] = [
  "a\u0000b", // jsonb refuses NUL: it once wedged every transaction
  "\ud800", // a lone surrogate
  "x".repeat(20_000), // echoed whole in a reply
  "constructor", // looked up on a plain object: replied with a function
  "__proto__", // threw, then retried until dead letters
  "toString",
  "hasOwnProperty",
  "%",
  "%E0%A4%A",
  "{not json",
  '{"userId":"@evil:x"}',
  "\u202e\u0007\u001b[31m",
  "@rounds_oncall:rounds.test",
  "9".repeat(400),
  "-1",
  "1e400",
  "0x4b64",
];
