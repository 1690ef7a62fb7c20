const controlCharacters = /[\u0000-\u001f\u007f-\u009f]/
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** Whether the text holds a control character (C0, DEL or C1). */
export const hasControlCharacter = (text: string): boolean => controlCharacters.test(text)

/** The text with each control character (C0, DEL or C1) written as a `\uXXXX` escape: safe to print. */
export const escapeControlCharacters = (text: string): string =>
  text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)

/**
 * Why a text cannot be one opaque id in a URL path segment, or `undefined` when it can: 1 to 128
 * characters, no `/ ? #`, no control characters, no surrounding whitespace, not `.` or `..` (a
 * URL drops those segments, so the request would go to another path), and no lone UTF-16
 * surrogate (it has no URL encoding).
 */
export const segmentProblem = (input: string): string | undefined => {
  if (input.length === 0) return "it is empty"
  if (input.length > 128) return `it has ${input.length} characters; at most 128 are allowed`
  if (/[/?#]/.test(input)) return "it contains '/', '?' or '#'"
  if (controlCharacters.test(input)) return "it contains a control character"
  if (input.trim() !== input) return "it has leading or trailing whitespace"
  if (input === "." || input === "..") return "it is '.' or '..', which a URL path drops"
  if (loneSurrogate.test(input)) return "it contains a lone UTF-16 surrogate, which a URL cannot carry"
  return undefined
}
