const controlCharacters = /[\u0000-\u001f\u007f-\u009f]/

/** Whether the text holds a control character (C0, DEL or C1). */
export const hasControlCharacter = (text: string): boolean => controlCharacters.test(text)

/**
 * Why a text cannot be one opaque id in a URL path segment, or `undefined` when it can: 1 to 128
 * characters, no `/ ? #`, no control characters, no surrounding whitespace.
 */
export const segmentProblem = (input: string): string | undefined => {
  if (input.length === 0) return "it is empty"
  if (input.length > 128) return `it has ${input.length} characters; at most 128 are allowed`
  if (/[/?#]/.test(input)) return "it contains '/', '?' or '#'"
  if (controlCharacters.test(input)) return "it contains a control character"
  if (input.trim() !== input) return "it has leading or trailing whitespace"
  return undefined
}
