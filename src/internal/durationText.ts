import * as Duration from "effect/Duration"
import * as Option from "effect/Option"

const units: Record<string, number> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000
}

/**
 * Reads a human duration: `500ms`, `2s`, `1.5s`, `15m`, `1h`, a bare number of seconds, or
 * effect's own form (`30 seconds`). Negative, infinite and unparseable inputs give `None`.
 */
export const parseDurationText = (input: string): Option.Option<Duration.Duration> => {
  const text = input.trim()
  if (text.length === 0 || text.length > 64) return Option.none()
  const short = /^(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h|d)?$/i.exec(text)
  if (short !== null) {
    const value = Number(short[1])
    const unit = units[(short[2] ?? "s").toLowerCase()]
    if (unit === undefined || !Number.isFinite(value)) return Option.none()
    return Option.some(Duration.millis(value * unit))
  }
  const decoded = Duration.decodeUnknown(text)
  return Option.filter(decoded, (d) => Duration.isFinite(d))
}
