/**
 * The `code` of an error from Node, undici or a database driver, looked for on the error and
 * down its chain of `cause`s (a few levels: wrappers nest it).
 *
 * @internal
 */
export const errorCode = (cause: unknown): string | undefined => {
  let current: unknown = cause
  for (let depth = 0; depth < 4 && typeof current === "object" && current !== null; depth++) {
    if ("code" in current && typeof current.code === "string") return current.code
    current = "cause" in current ? current.cause : undefined
  }
  return undefined
}
