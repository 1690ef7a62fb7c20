/**
 * Shared by the hostile-*.test.ts files: arbitraries of hostile bodies and ids, and a loopback
 * HTTP server whose answer each property run sets.
 */
import * as Http from "node:http"
import type * as Net from "node:net"
import * as Arbitrary from "effect/Arbitrary"
import * as fc from "effect/FastCheck"
import * as WriteAction from "../src/WriteAction.js"

// ---------------------------------------------------------------------------------------------
// arbitraries
// ---------------------------------------------------------------------------------------------

/** A valid record of either contract, as the JSON the API would send. */
export const recordJson: fc.Arbitrary<Record<string, unknown>> = fc
  .oneof(Arbitrary.make(WriteAction.XWriteAction), Arbitrary.make(WriteAction.SeedWriteAction))
  .map((record) => JSON.parse(JSON.stringify(record)) as Record<string, unknown>)

const recordKeys = [
  "object",
  "id",
  "writeActionId",
  "action",
  "status",
  "terminal",
  "charged",
  "chargedCredits",
  "billing",
  "media",
  "result",
  "nextAction",
  "pollAfterMs",
  "statusUrl",
  "expiresAt",
  "details",
  "__proto__",
  "constructor",
  "toString"
]

/** A JSON value with keys a record has, and keys that are dangerous on a plain object. */
const hostileJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.jsonValue({ maxDepth: 2 }),
    fc.dictionary(fc.oneof(fc.constantFrom(...recordKeys), fc.string()), tie("value"), { maxKeys: 6 }),
    fc.array(tie("value"), { maxLength: 4 })
  )
})).value

/** A valid record with a few fields replaced (top level or one level down) or removed. */
export const mutatedRecordJson: fc.Arbitrary<unknown> = fc
  .tuple(
    recordJson,
    fc.array(
      fc.record({
        key: fc.constantFrom(...recordKeys),
        inner: fc.option(fc.constantFrom("status", "chargedCredits", "id", "type", "afterMs", "count", "credits")),
        value: fc.option(hostileJson, { nil: undefined })
      }),
      { minLength: 1, maxLength: 3 }
    )
  )
  .map(([record, edits]) => {
    const copy = JSON.parse(JSON.stringify(record)) as Record<string, unknown>
    for (const { key, inner, value } of edits) {
      const nested = copy[key]
      if (inner !== null && typeof nested === "object" && nested !== null && !Array.isArray(nested)) {
        const object = nested as Record<string, unknown>
        if (value === undefined) delete object[inner]
        else object[inner] = value
      } else if (value === undefined) delete copy[key]
      else Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true })
    }
    return copy
  })

/** Any string, including lone surrogates and control characters. */
export const hostileString = fc.oneof(
  fc.string({ unit: "binary", maxLength: 64 }),
  fc.string({ unit: "grapheme", maxLength: 32 }),
  fc.string({ unit: fc.constantFrom("/", "?", "#", ".", "%", " ", "\\", "\t", "\u0000", "\u0085", "\u2028", "a", "1") })
)

/** Ids: anything, plus the edge cases of one path segment. */
export const hostileId = fc.oneof(
  hostileString,
  fc.stringMatching(/^[0-9]{1,20}$/),
  fc.constantFrom(
    "",
    ".",
    "..",
    "...",
    "%",
    "%2F",
    "%2e%2e",
    " 42",
    "42 ",
    "a/b",
    "a?b",
    "a#b",
    "a\\b",
    "\u0000",
    "\u0085",
    "\u009b2J",
    "\u2028",
    "\uD800",
    "a\uDC00b",
    "😀",
    ";",
    "@",
    ":",
    "x".repeat(128),
    "x".repeat(129),
    "x".repeat(200),
    `😀${"x".repeat(127)}`
  )
)

// ---------------------------------------------------------------------------------------------
// a loopback server
// ---------------------------------------------------------------------------------------------

/** A request as the loopback server saw it. */
export interface Seen {
  readonly method: string
  /** The raw request target, as it came on the wire. */
  readonly url: string
  readonly headers: Http.IncomingHttpHeaders
}

/** A real HTTP server on 127.0.0.1 (port 0) whose answer is set per property run. */
export interface Loopback {
  readonly origin: string
  readonly baseUrl: string
  readonly port: number
  readonly seen: Array<Seen>
  /** Answers every request from now on. */
  handle: (request: Http.IncomingMessage, response: Http.ServerResponse) => void
  readonly close: () => Promise<void>
}

const notFound = (_request: Http.IncomingMessage, response: Http.ServerResponse) => {
  response.writeHead(404, { "content-type": "application/json" })
  response.end('{"error":"not_found"}')
}

export const startLoopback = async (): Promise<Loopback> => {
  const sockets = new Set<Net.Socket>()
  const loopback: { -readonly [K in keyof Loopback]: Loopback[K] } = {
    origin: "",
    baseUrl: "",
    port: 0,
    seen: [],
    handle: notFound,
    close: () => Promise.resolve()
  }
  const server = Http.createServer((request, response) => {
    loopback.seen.push({ method: request.method ?? "", url: request.url ?? "", headers: request.headers })
    request.resume()
    loopback.handle(request, response)
  })
  server.on("connection", (socket) => {
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const address = server.address()
  loopback.port = typeof address === "object" && address !== null ? address.port : 0
  loopback.origin = `http://127.0.0.1:${loopback.port}`
  loopback.baseUrl = `${loopback.origin}/api/v1`
  loopback.close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy()
      server.close(() => resolve())
    })
  return loopback
}

/** A handler that answers with exactly this status, headers and body (with a Content-Length). */
export const answer =
  (status: number, body: string | Uint8Array, headers: Readonly<Record<string, string | ReadonlyArray<string>>> = {}) =>
  (_request: Http.IncomingMessage, response: Http.ServerResponse) => {
    response.statusCode = status
    for (const [name, value] of Object.entries(headers)) response.setHeader(name, value)
    response.end(body)
  }

/** A header value Node will send: tab, printable ASCII and Latin-1. */
export const headerSafe = (text: string): boolean => /^[\t\u0020-\u007e\u0080-\u00ff]*$/.test(text)
