// The bench server: canned Xquik answers from plain node:http, so the server is not the
// bottleneck. Started as its own process by bench/run.ts. Modes (query of /__reset):
//   success  every GET answers 200 with a success record
//   pending-then-success  per id: the first GET answers 202 pending, the next 200 success
//   pending  every GET answers 202 pending (no pacing hint)
// POST /api/v1/x/tweets answers 202 accepted with a fresh id (the next GETs follow the mode).
// GET /__stats answers this process's CPU time; GET /__arrivals the arrival times per id.
import http from "node:http"

const port = Number(process.argv[2] ?? 0)
let mode = "success"
let nextId = 1
let counts = new Map()
let arrivals = new Map()
let keepArrivals = false
let requests = 0
let overlapping = 0
const inFlight = new Map()

const record = (id, status) => {
  const success = status === "success"
  const terminal = success
  return JSON.stringify({
    object: "x_write_action",
    id,
    writeActionId: id,
    action: "create_tweet",
    status,
    terminal,
    retryable: false,
    safeToRetry: false,
    statusUrl: `/api/v1/x/write-actions/${id}`,
    pollAfterMs: null,
    charged: success,
    chargedCredits: success ? "30" : "0",
    billing: {
      status: success ? "charged" : "pending",
      charged: success,
      plannedCredits: "30",
      chargedCredits: success ? "30" : "0"
    },
    request: { hash: null, payload: { text: "bench" } },
    account: { id: "1", username: "bench" },
    target: null,
    targetId: null,
    result: success ? { type: "tweet", id: `19${id.padStart(17, "0")}` } : null,
    nextAction: terminal ? null : { type: "poll", url: `/api/v1/x/write-actions/${id}` },
    sendDispatched: status !== "accepted",
    success
  })
}

const send = (res, status, body) => {
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    "x-request-id": "bench"
  })
  res.end(body)
}

const server = http.createServer((req, res) => {
  const url = req.url ?? "/"
  if (url.startsWith("/__reset")) {
    const q = new URL(url, "http://x").searchParams
    mode = q.get("mode") ?? "success"
    keepArrivals = q.get("arrivals") === "1"
    counts = new Map()
    arrivals = new Map()
    nextId = 1
    requests = 0
    overlapping = 0
    inFlight.clear()
    return send(res, 200, "{}")
  }
  if (url === "/__stats") {
    const cpu = process.cpuUsage()
    return send(res, 200, JSON.stringify({ cpuMicros: cpu.user + cpu.system, requests, overlapping }))
  }
  if (url === "/__arrivals") return send(res, 200, JSON.stringify(Object.fromEntries(arrivals)))
  // The bench's own reads (/__…) are not counted.
  requests++
  if (req.method === "POST") {
    req.resume()
    req.on("end", () => {
      const id = String(nextId++)
      send(res, 202, record(id, "accepted"))
    })
    return
  }
  const id = decodeURIComponent(url.slice(url.lastIndexOf("/") + 1))
  // Two polls of one id at once would mean two workers hold one row.
  const busy = inFlight.get(id) ?? 0
  if (busy > 0) overlapping++
  inFlight.set(id, busy + 1)
  res.once("finish", () => {
    const left = (inFlight.get(id) ?? 1) - 1
    if (left === 0) inFlight.delete(id)
    else inFlight.set(id, left)
  })
  if (keepArrivals) {
    const list = arrivals.get(id)
    if (list === undefined) arrivals.set(id, [Date.now()])
    else list.push(Date.now())
  }
  if (mode === "success") return send(res, 200, record(id, "success"))
  if (mode === "pending") return send(res, 202, record(id, "pending_confirmation"))
  const n = (counts.get(id) ?? 0) + 1
  counts.set(id, n)
  return n === 1 ? send(res, 202, record(id, "pending_confirmation")) : send(res, 200, record(id, "success"))
})
server.keepAliveTimeout = 60_000
server.listen(port, "127.0.0.1", () => {
  const address = server.address()
  process.stdout.write(`${JSON.stringify({ port: typeof address === "object" && address ? address.port : port })}\n`)
})
