import { readFileSync } from "node:fs"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Sim from "../../testing/XquikSimulator.js"
import { emit, type Globals, note, UsageError } from "../shared.js"

const optional = <S extends Schema.Schema.All>(schema: S) => Schema.optionalWith(schema, { exact: true })

/**
 * A script file: a list of steps for every write, or `{ "default": [...], "rules": [...] }` where
 * the first rule that matches a write (by action, account, or text it includes) gives its steps.
 */
const ScriptFile = Schema.Union(
  Schema.Array(Sim.Step),
  Schema.Struct({
    default: optional(Schema.Array(Sim.Step)),
    rules: optional(
      Schema.Array(
        Schema.Struct({
          action: optional(Schema.String),
          account: optional(Schema.String),
          textIncludes: optional(Schema.String),
          steps: Schema.Array(Sim.Step)
        })
      )
    )
  })
)

const loadScript = (file: string): Effect.Effect<Sim.ScriptFor, UsageError> =>
  Effect.gen(function* () {
    const text = yield* Effect.try({
      try: () => readFileSync(file, "utf8"),
      catch: () => new UsageError({ message: `cannot read the script ${JSON.stringify(file)}.` })
    })
    const json = yield* Effect.try({
      try: (): unknown => JSON.parse(text),
      catch: () => new UsageError({ message: `the script ${JSON.stringify(file)} is not JSON.` })
    })
    const script = yield* Schema.decodeUnknown(ScriptFile, { onExcessProperty: "error" })(json).pipe(
      Effect.mapError(
        (e) =>
          new UsageError({
            message: `the script ${JSON.stringify(file)} is not a list of steps: ${e.message.split("\n")[0] ?? ""}`
          })
      )
    )
    if (Array.isArray(script)) return () => script
    const rules = "rules" in script ? (script.rules ?? []) : []
    const fallback = "default" in script && script.default !== undefined ? script.default : Sim.defaultScript
    return (write: Sim.ReceivedWrite) => {
      const text = typeof write.body.text === "string" ? write.body.text : ""
      const rule = rules.find(
        (r) =>
          (r.action === undefined || r.action === write.action) &&
          (r.account === undefined || r.account === write.account) &&
          (r.textIncludes === undefined || text.includes(r.textIncludes))
      )
      return rule?.steps ?? fallback
    }
  })

/**
 * `simulate`: runs the simulator in the foreground until interrupted. It accepts the key in
 * XQUIK_API_KEY, else the documented default test key, and prints its base URL as a JSON line.
 */
export const run = (
  globals: Globals,
  options: { readonly port: number; readonly contract: "a" | "b"; readonly script: Option.Option<string> }
) =>
  Effect.gen(function* () {
    if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
      return yield* new UsageError({ message: "--port must be a whole number from 0 to 65535." })
    }
    const script = Option.isSome(options.script) ? yield* loadScript(options.script.value) : undefined
    const apiKey = process.env.XQUIK_API_KEY?.trim()
    const sim = yield* Sim.make({
      port: options.port,
      // Ids never repeat across restarts, as with the real API (a store may hold earlier ones).
      firstWriteActionId: Date.now() % 1_000_000_000,
      contract: options.contract,
      ...(script !== undefined ? { script } : {}),
      ...(apiKey !== undefined && apiKey !== "" ? { apiKey } : {})
    }).pipe(
      Effect.mapError((e) => new UsageError({ message: `cannot listen on port ${options.port}: ${String(e.cause)}` }))
    )
    yield* emit({ baseUrl: sim.baseUrl, contract: options.contract })
    yield* note(globals, `simulator listening on ${sim.baseUrl} (contract ${options.contract}); Ctrl-C to stop`)
    return yield* Effect.never
  }).pipe(Effect.scoped)
