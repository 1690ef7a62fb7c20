import { readFileSync } from "node:fs"
import { describe, expect, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { version } from "../src/internal/version.js"
import * as XquikConfig from "../src/XquikConfig.js"

const fromEnv = (env: Record<string, string>) =>
  XquikConfig.fromEnv().pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))

const key = `xq_${"ab".repeat(32)}`

describe("XquikConfig", () => {
  it.effect("reads one API key and the defaults", () =>
    Effect.gen(function* () {
      const config = yield* fromEnv({ XQUIK_API_KEY: key })
      expect(config.baseUrl).toBe("https://xquik.com/api/v1")
      expect(config.origin).toBe("https://xquik.com")
      expect(config.basePath).toBe("/api/v1")
      expect(config.credential._tag).toBe("ApiKey")
      expect(Redacted.value(config.credential.value)).toBe(key)
      expect(Duration.toMillis(config.timeout)).toBe(30_000)
      expect(config.maxResponseBytes).toBe(1024 * 1024)
      expect(config.userAgent).toBe(`xquik-write-queue/${version}`)
      expect(String(config.credential.value)).not.toContain(key)
      expect(JSON.stringify(config)).not.toContain(key)
    })
  )

  it.effect("reads a bearer token, a session cookie, a base URL and a timeout", () =>
    Effect.gen(function* () {
      const bearer = yield* fromEnv({
        XQUIK_BEARER_TOKEN: "tok_1",
        XQUIK_BASE_URL: "http://127.0.0.1:8080/api/v1/",
        XQUIK_TIMEOUT: "5s"
      })
      expect(bearer.credential._tag).toBe("BearerToken")
      expect(bearer.baseUrl).toBe("http://127.0.0.1:8080/api/v1")
      expect(Duration.toMillis(bearer.timeout)).toBe(5000)
      const cookie = yield* fromEnv({ XQUIK_SESSION_COOKIE: "sess", XQUIK_TIMEOUT: "1500ms" })
      expect(cookie.credential._tag).toBe("SessionCookie")
      expect(Duration.toMillis(cookie.timeout)).toBe(1500)
      expect(XquikConfig.credentialHeader(cookie.credential)).toEqual(["cookie", "__Host-xquik_session=sess"])
      expect(XquikConfig.credentialHeader(bearer.credential)).toEqual(["authorization", "Bearer tok_1"])
    })
  )

  it.effect("no credential is a ConfigError naming the three variables", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(fromEnv({}))
      expect(error._tag).toBe("ConfigError")
      expect(error.variables).toEqual(["XQUIK_API_KEY", "XQUIK_BEARER_TOKEN", "XQUIK_SESSION_COOKIE"])
      expect(error.message).toContain("Set exactly one of XQUIK_API_KEY, XQUIK_BEARER_TOKEN, XQUIK_SESSION_COOKIE")
    })
  )

  it.effect("two credentials are a ConfigError naming both, without their values", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(fromEnv({ XQUIK_API_KEY: key, XQUIK_BEARER_TOKEN: "tok_secret_1" }))
      expect(error.variables).toEqual(["XQUIK_API_KEY", "XQUIK_BEARER_TOKEN"])
      expect(error.message).not.toContain(key)
      expect(error.message).not.toContain("tok_secret_1")
    })
  )

  it.effect("a non-http(s) or unparseable base URL is a ConfigError", () =>
    Effect.gen(function* () {
      for (const url of [
        "ftp://xquik.com/api/v1",
        "not a url",
        "file:///etc/passwd",
        "https://user:pw@xquik.com/api/v1",
        "https://xquik.com/api/v1?x=1"
      ]) {
        const error = yield* Effect.flip(fromEnv({ XQUIK_API_KEY: key, XQUIK_BASE_URL: url }))
        expect(error.variables).toEqual(["XQUIK_BASE_URL"])
      }
    })
  )

  it.effect("a bad timeout or a credential with a line break is a ConfigError", () =>
    Effect.gen(function* () {
      expect((yield* Effect.flip(fromEnv({ XQUIK_API_KEY: key, XQUIK_TIMEOUT: "soon" }))).variables).toEqual([
        "XQUIK_TIMEOUT"
      ])
      expect((yield* Effect.flip(fromEnv({ XQUIK_API_KEY: key, XQUIK_TIMEOUT: "0s" }))).variables).toEqual([
        "XQUIK_TIMEOUT"
      ])
      const error = yield* Effect.flip(fromEnv({ XQUIK_API_KEY: "xq_a\r\nX-Evil: 1" }))
      expect(error.variables).toEqual(["XQUIK_API_KEY"])
      expect(error.message).not.toContain("Evil")
    })
  )

  it.effect("make() takes options and refuses two credentials by option name", () =>
    Effect.gen(function* () {
      const config = yield* XquikConfig.make({ apiKey: Redacted.make(key), timeout: "2 seconds", sendReplays: 1 })
      expect(config.sendReplays).toBe(1)
      const error = yield* Effect.flip(XquikConfig.make({ apiKey: key, sessionCookie: "c" }))
      expect(error.variables).toEqual(["apiKey", "sessionCookie"])
      expect((yield* Effect.flip(XquikConfig.make({ apiKey: key, sendReplays: 3 }))).variables).toEqual(["sendReplays"])
    })
  )

  it("the version constant matches package.json", () => {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
    expect(version).toBe(pkg.version)
  })
})
