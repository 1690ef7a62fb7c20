/**
 * One fiber that keeps many deadlines: a binary heap of entries, and a sleep until the earliest.
 * Thousands of poll loops and waiters wait here as small heap entries instead of as sleeping
 * fibers each.
 *
 * Time comes from the fiber's `Clock`, so `TestClock` drives it in tests.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"

/** @internal */
export interface Entry {
  readonly at: number
  readonly seq: number
  readonly run: (now: number) => Effect.Effect<void>
  /** The entry's place in the heap; -1 once it has run or was cancelled. */
  index: number
}

/** @internal */
export interface Timer {
  /** Runs `run` in the timer's fiber at `at` (Clock milliseconds). `run` must be quick. */
  readonly schedule: (at: number, run: (now: number) => Effect.Effect<void>) => Entry
  /** Removes an entry that has not run yet; a no-op otherwise. */
  readonly cancel: (entry: Entry) => void
  /** How many entries are waiting. */
  readonly size: () => number
}

const before = (a: Entry, b: Entry) => a.at < b.at || (a.at === b.at && a.seq < b.seq)

/** @internal */
export const make: Effect.Effect<Timer, never, Scope.Scope> = Effect.gen(function* () {
  const heap: Array<Entry> = []
  let seq = 0
  let sleepingUntil = Number.POSITIVE_INFINITY
  let wake: (() => void) | undefined
  // A wake-up asked for while the loop was between reading the heap and waiting.
  let armed = false

  const place = (entry: Entry, index: number) => {
    heap[index] = entry
    entry.index = index
  }
  const up = (start: number) => {
    let i = start
    const entry = heap[i] as Entry
    while (i > 0) {
      const parent = (i - 1) >> 1
      const above = heap[parent] as Entry
      if (!before(entry, above)) break
      place(above, i)
      i = parent
    }
    place(entry, i)
  }
  const down = (start: number) => {
    let i = start
    const entry = heap[i] as Entry
    const n = heap.length
    for (;;) {
      const left = 2 * i + 1
      if (left >= n) break
      const right = left + 1
      const child = right < n && before(heap[right] as Entry, heap[left] as Entry) ? right : left
      const below = heap[child] as Entry
      if (!before(below, entry)) break
      place(below, i)
      i = child
    }
    place(entry, i)
  }
  const removeAt = (index: number) => {
    const removed = heap[index] as Entry
    const last = heap.pop() as Entry
    removed.index = -1
    if (index < heap.length) {
      place(last, index)
      up(index)
      down(last.index)
    }
  }

  const schedule = (at: number, run: (now: number) => Effect.Effect<void>): Entry => {
    const entry: Entry = { at, seq: seq++, run, index: heap.length }
    heap.push(entry)
    up(heap.length - 1)
    if (at < sleepingUntil) {
      if (wake === undefined) {
        armed = true
      } else {
        const w = wake
        wake = undefined
        w()
      }
    }
    return entry
  }
  const cancel = (entry: Entry) => {
    if (entry.index >= 0 && heap[entry.index] === entry) removeAt(entry.index)
  }

  const wakeUp = Effect.async<void>((resume) => {
    if (armed) {
      armed = false
      return resume(Effect.void)
    }
    wake = () => resume(Effect.void)
    return Effect.sync(() => {
      wake = undefined
    })
  })

  const loop = Effect.gen(function* () {
    for (;;) {
      const now = yield* Clock.currentTimeMillis
      let top = heap[0]
      while (top !== undefined && top.at <= now) {
        removeAt(0)
        yield* Effect.catchAllDefect(top.run(now), (defect) => Effect.logError("timer: an entry died", defect))
        top = heap[0]
      }
      armed = false
      top = heap[0]
      sleepingUntil = top === undefined ? Number.POSITIVE_INFINITY : top.at
      yield* top === undefined ? wakeUp : Effect.raceFirst(Effect.sleep(Duration.millis(top.at - now)), wakeUp)
      sleepingUntil = Number.POSITIVE_INFINITY
    }
  })
  yield* Effect.forkScoped(Effect.interruptible(loop))

  return { schedule, cancel, size: () => heap.length }
})
