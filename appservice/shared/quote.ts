/**
 * What a user typed, fit to quote back in a reply or a refusal: control and format characters
 * (line breaks, bidi overrides, lone surrogates) become spaces, and anything longer than `max`
 * characters is cut with "…", so a reply never repeats a long or hostile input whole.
 */
export function quote(text: string, max = 40): string {
  const clean = text
    .replace(/[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]+/gu, " ")
    .replace(/\s+/g, " ")
    .trim();
  // By code point, so a cut never splits a surrogate pair.
  const chars = [...clean];
  return chars.length <= max ? clean : `${chars.slice(0, max - 1).join("").trimEnd()}…`;
}
