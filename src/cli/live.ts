/**
 * The client and store a command runs on, from the global options and the environment. Loaded
 * only by the commands that need them.
 */
import { readFileSync } from "node:fs"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as SqlQueueStore from "../SqlQueueStore.js"
import * as XquikClient from "../XquikClient.js"
import * as XquikConfig from "../XquikConfig.js"
import { ConfigError } from "../XquikError.js"
import type { Globals } from "./shared.js"

const credentialVariables = ["XQUIK_API_KEY", "XQUIK_BEARER_TOKEN", "XQUIK_SESSION_COOKIE"] as const

/** The store location: --db, then XQUIK_DB, then ./xquik-write-queue.db. */
export const dbOf = (globals: Globals): string =>
  Option.getOrElse(globals.db, () => process.env.XQUIK_DB?.trim() || "./xquik-write-queue.db")

/** Whether the user named a store (for commands that store rows only when asked to). */
export const dbGiven = (globals: Globals): boolean =>
  Option.isSome(globals.db) || (process.env.XQUIK_DB?.trim() ?? "") !== ""

/**
 * The configuration: credentials from the environment or --api-key-file (never a flag value),
 * exactly one of them; the base URL from --base-url or XQUIK_BASE_URL.
 */
export const config = (globals: Globals, extra: XquikConfig.Options = {}) =>
  Effect.gen(function* () {
    const fromEnv = credentialVariables.filter((name) => (process.env[name]?.trim() ?? "") !== "")
    const baseUrl = Option.getOrUndefined(globals.baseUrl)
    if (Option.isSome(globals.apiKeyFile)) {
      if (fromEnv.length > 0) {
        return yield* new ConfigError({
          variables: ["--api-key-file", ...fromEnv],
          reason: `--api-key-file and ${fromEnv.join(" and ")} are all set. Give exactly one credential.`
        })
      }
      const file = globals.apiKeyFile.value
      const content = yield* Effect.try({
        try: () => readFileSync(file, "utf8").trim(),
        catch: () =>
          new ConfigError({
            variables: ["--api-key-file"],
            reason: `cannot read ${JSON.stringify(file)}. Check the path and its permissions.`
          })
      })
      if (content === "") {
        return yield* new ConfigError({ variables: ["--api-key-file"], reason: `${JSON.stringify(file)} is empty.` })
      }
      return yield* XquikConfig.fromEnv({ ...extra, baseUrl, apiKey: Redacted.make(content) })
    }
    return yield* XquikConfig.fromEnv({ ...extra, ...(baseUrl !== undefined ? { baseUrl } : {}) })
  }).pipe(
    // Name the flag, not the variable, when the base URL came from --base-url.
    Effect.mapError((error) =>
      Option.isSome(globals.baseUrl) && error.variables.includes("XQUIK_BASE_URL")
        ? new ConfigError({ variables: ["--base-url"], reason: error.reason })
        : error
    )
  )

/** The client on undici, configured from the global options and the environment. */
export const client = (globals: Globals, extra: XquikConfig.Options = {}) =>
  XquikClient.layerNode.pipe(Layer.provideMerge(Layer.effect(XquikConfig.XquikConfig, config(globals, extra))))

/** The store named by --db / XQUIK_DB: a postgres:// URL, or a SQLite file. */
export const store = (globals: Globals) => SqlQueueStore.layerFromUrl(dbOf(globals))
