/**
 * Reading what the API answered: Retry-After, error bodies, and the mapping of an HTTP status to
 * a typed error. Pure functions; the client wires them to real responses.
 */
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import * as XquikError from "../XquikError.js"

/** Retry-After is clamped to this; anything longer is treated as this. */
export const maxRetryAfter = Duration.hours(24)
const maxRetryAfterMs = Duration.toMillis(maxRetryAfter)

const httpDate =
  /^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT|(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \d{2}-(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d{2} \d{2}:\d{2}:\d{2} GMT|(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d{2}:\d{2}:\d{2} \d{4})$/

const clampMs = (ms: number): Duration.Duration => Duration.millis(Math.min(Math.max(0, ms), maxRetryAfterMs))

/**
 * Reads a `Retry-After` value: delay-seconds (`120`, also `1.5`) or an HTTP date, relative to
 * `now`. The result is clamped to [0 s, 24 h]. Anything else is ignored (`None`).
 */
export const parseRetryAfter = (value: string | undefined, now: number): Option.Option<Duration.Duration> => {
  if (value === undefined) return Option.none()
  const text = value.trim()
  if (text.length === 0 || text.length > 64) return Option.none()
  if (/^\d+(?:\.\d+)?$/.test(text)) {
    const seconds = Number(text)
    return Number.isFinite(seconds) ? Option.some(clampMs(seconds * 1000)) : Option.some(maxRetryAfter)
  }
  if (httpDate.test(text)) {
    const at = Date.parse(text)
    return Number.isFinite(at) ? Option.some(clampMs(at - now)) : Option.none()
  }
  return Option.none()
}

/** What an error body says, read leniently: a bad error body still yields an error. */
export interface ErrorBody {
  readonly code: string | undefined
  readonly detail: string | undefined
  readonly safeToRetry: boolean | undefined
  readonly retryAfterMs: number | undefined
  readonly nextAction: XquikError.ErrorNextAction | undefined
  readonly fieldErrors: ReadonlyArray<XquikError.FieldError>
  readonly writeActionId: string | undefined
}

const emptyBody: ErrorBody = {
  code: undefined,
  detail: undefined,
  safeToRetry: undefined,
  retryAfterMs: undefined,
  nextAction: undefined,
  fieldErrors: [],
  writeActionId: undefined
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)
const shortString = (u: unknown, max: number): string | undefined =>
  typeof u === "string" && u.length > 0 ? (u.length > max ? `${u.slice(0, max)}…` : u) : undefined

/** Reads an error body (`{error, message, safeToRetry, nextAction, fieldErrors, …}`). */
export const readErrorBody = (json: unknown): ErrorBody => {
  if (!isObject(json)) return emptyBody
  // `error` is a code string, or (structured contract) an object with `code` and `message`.
  const structured = isObject(json.error) ? json.error : undefined
  const code = shortString(structured?.code ?? json.error, 128)
  const detail = shortString(json.message ?? structured?.message ?? json.reason, 1000)
  const retryAfterMs =
    typeof json.retryAfterMs === "number" && Number.isFinite(json.retryAfterMs) && json.retryAfterMs >= 0
      ? json.retryAfterMs
      : typeof json.retryAfter === "number" && Number.isFinite(json.retryAfter) && json.retryAfter >= 0
        ? json.retryAfter * 1000
        : undefined
  let nextAction: XquikError.ErrorNextAction | undefined
  const n = isObject(json.nextAction) ? json.nextAction : undefined
  const nextType = n?.type
  if (n !== undefined && typeof nextType === "string") {
    nextAction = {
      type: nextType.slice(0, 128),
      ...(typeof n.url === "string" ? { url: n.url.slice(0, 4096) } : {}),
      ...(typeof n.afterMs === "number" && Number.isFinite(n.afterMs) ? { afterMs: n.afterMs } : {}),
      ...(typeof n.requiresNewIdempotencyKey === "boolean"
        ? { requiresNewIdempotencyKey: n.requiresNewIdempotencyKey }
        : {})
    }
  }
  const fieldErrors = Array.isArray(json.fieldErrors)
    ? json.fieldErrors.slice(0, 50).flatMap(
        (f): ReadonlyArray<XquikError.FieldError> =>
          isObject(f)
            ? [
                {
                  path: shortString(f.path, 200) ?? "$",
                  code: shortString(f.code, 128) ?? "invalid",
                  message: shortString(f.message, 500) ?? "invalid"
                }
              ]
            : []
      )
    : []
  return {
    code,
    detail,
    safeToRetry: typeof json.safeToRetry === "boolean" ? json.safeToRetry : undefined,
    retryAfterMs,
    nextAction,
    fieldErrors,
    writeActionId: shortString(json.writeActionId, 128)
  }
}

/** The parts of an answer the error mapping needs. */
export interface ErrorContext {
  readonly method: string
  readonly path: string
  readonly status: number
  readonly requestId: string | undefined
  readonly retryAfter: Option.Option<Duration.Duration>
  /** A write (POST/DELETE) rather than a status read. */
  readonly write: boolean
}

const fallbackCode = (status: number): string => {
  switch (status) {
    case 400:
      return "invalid_input"
    case 401:
      return "unauthenticated"
    case 402:
      return "payment_required"
    case 403:
      return "forbidden"
    case 404:
      return "not_found"
    case 409:
      return "idempotency_conflict"
    case 422:
      return "x_rejected"
    case 429:
      return "rate_limit_exceeded"
    default:
      return status >= 500 ? "internal_error" : `http_${status}`
  }
}

/**
 * Whether a failed WRITE may have reached X, from its status and body. 4xx answers are
 * pre-dispatch (or a rejection by X); 5xx answers may have dispatched unless the body says
 * `safeToRetry: true`; `x_write_ambiguous` always may have.
 */
const writeMayHaveDispatched = (status: number, body: ErrorBody): boolean => {
  if (body.code === "x_write_ambiguous") return true
  if (status >= 400 && status < 500) return false
  return body.safeToRetry !== true
}

/** Whether repeating a READ may help after this server error. */
const readRetryable = (status: number, code: string): boolean =>
  status === 502 ||
  status === 503 ||
  status === 504 ||
  (status === 500 && (code === "internal_error" || code === "service_unavailable"))

/** Maps a non-success answer to its typed error. */
export const errorFromAnswer = (ctx: ErrorContext, body: ErrorBody): XquikError.XquikError => {
  const code = body.code ?? fallbackCode(ctx.status)
  const mayHaveDispatched = ctx.write ? writeMayHaveDispatched(ctx.status, body) : false
  const fields = {
    method: ctx.method,
    path: ctx.path,
    code,
    mayHaveDispatched,
    ...(body.detail !== undefined ? { detail: body.detail } : {}),
    ...(ctx.requestId !== undefined ? { requestId: ctx.requestId } : {}),
    ...(body.safeToRetry !== undefined ? { safeToRetry: body.safeToRetry } : {}),
    ...(body.nextAction !== undefined ? { nextAction: body.nextAction } : {}),
    ...(body.writeActionId !== undefined ? { writeActionId: body.writeActionId } : {})
  }
  const retryAfter = Option.orElse(ctx.retryAfter, () =>
    body.retryAfterMs === undefined ? Option.none() : Option.some(clampMs(body.retryAfterMs))
  )
  switch (ctx.status) {
    case 400:
      return new XquikError.InvalidRequest({ ...fields, status: 400, fieldErrors: body.fieldErrors })
    case 401:
      return new XquikError.Unauthenticated(fields)
    case 402:
      return new XquikError.PaymentRequired(fields)
    case 403:
      return new XquikError.Forbidden(fields)
    case 404:
      return new XquikError.NotFound(fields)
    case 409:
      return new XquikError.IdempotencyConflict(fields)
    case 422:
      return new XquikError.Unprocessable(fields)
    case 429:
      return new XquikError.RateLimited({
        ...fields,
        ...(Option.isSome(retryAfter) ? { retryAfter: retryAfter.value } : {})
      })
  }
  if (ctx.status >= 500) {
    return new XquikError.ServerError({
      ...fields,
      status: ctx.status,
      retryable: readRetryable(ctx.status, code),
      ...(Option.isSome(retryAfter) ? { retryAfter: retryAfter.value } : {})
    })
  }
  if (ctx.status >= 400) {
    return new XquikError.InvalidRequest({ ...fields, status: ctx.status, fieldErrors: body.fieldErrors })
  }
  return new XquikError.MalformedResponse({
    method: ctx.method,
    path: ctx.path,
    status: ctx.status,
    fieldPath: "$",
    reason: `unexpected HTTP status ${ctx.status}`,
    mayHaveDispatched,
    ...(ctx.requestId !== undefined ? { requestId: ctx.requestId } : {})
  })
}
