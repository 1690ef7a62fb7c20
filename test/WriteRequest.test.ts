import { describe, expect, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as WriteRequest from "../src/WriteRequest.js"

describe("WriteRequest", () => {
  const account = "@acme"
  const table: Array<[string, WriteRequest.WriteRequest, WriteRequest.HttpForm, string]> = [
    [
      "tweet",
      WriteRequest.tweet({ account, text: "hi" }),
      { method: "POST", path: "/x/tweets", body: { account, text: "hi" } },
      "create_tweet"
    ],
    [
      "reply",
      WriteRequest.reply({ account, text: "yes", replyTo: "1893456789012345678" }),
      { method: "POST", path: "/x/tweets", body: { account, text: "yes", reply_to_tweet_id: "1893456789012345678" } },
      "create_tweet"
    ],
    [
      "note tweet",
      WriteRequest.noteTweet({ account, text: "long" }),
      { method: "POST", path: "/x/tweets", body: { account, text: "long", is_note_tweet: true } },
      "create_tweet"
    ],
    [
      "tweet with media",
      WriteRequest.tweetWithMedia({ account, media: ["https://example.com/a.png", "https://example.com/b.png"] }),
      {
        method: "POST",
        path: "/x/tweets",
        body: { account, media: ["https://example.com/a.png", "https://example.com/b.png"] }
      },
      "create_tweet"
    ],
    [
      "delete tweet",
      WriteRequest.deleteTweet(account, "123"),
      { method: "DELETE", path: "/x/tweets/123", body: { account } },
      "delete_tweet"
    ],
    [
      "like",
      WriteRequest.like(account, "123"),
      { method: "POST", path: "/x/tweets/123/like", body: { account } },
      "like"
    ],
    [
      "unlike",
      WriteRequest.unlike(account, "123"),
      { method: "DELETE", path: "/x/tweets/123/like", body: { account } },
      "unlike"
    ],
    [
      "retweet",
      WriteRequest.retweet(account, "123"),
      { method: "POST", path: "/x/tweets/123/retweet", body: { account } },
      "retweet"
    ],
    [
      "unretweet",
      WriteRequest.unretweet(account, "123"),
      { method: "DELETE", path: "/x/tweets/123/retweet", body: { account } },
      "unretweet"
    ],
    [
      "follow",
      WriteRequest.follow(account, "77"),
      { method: "POST", path: "/x/users/77/follow", body: { account } },
      "follow"
    ],
    [
      "unfollow",
      WriteRequest.unfollow(account, "77"),
      { method: "DELETE", path: "/x/users/77/follow", body: { account } },
      "unfollow"
    ],
    [
      "remove follower",
      WriteRequest.removeFollower(account, "77"),
      { method: "POST", path: "/x/users/77/remove-follower", body: { account } },
      "remove_follower"
    ],
    [
      "send DM",
      WriteRequest.sendDm({ account, to: "77", text: "hello", mediaId: "555" }),
      { method: "POST", path: "/x/dm/77", body: { account, text: "hello", media_ids: ["555"] } },
      "send_dm"
    ]
  ]
  for (const [name, request, form, action] of table) {
    it(`${name} knows its method, path, body and action`, () => {
      expect(WriteRequest.toHttp(request)).toEqual(form)
      expect(WriteRequest.action(request)).toBe(action)
      expect(Either.isRight(WriteRequest.validate(request))).toBe(true)
    })
  }

  it("encodes path ids as one segment", () => {
    expect(WriteRequest.toHttp(WriteRequest.like(account, "a b%")).path).toBe("/x/tweets/a%20b%25/like")
  })

  it("round-trips through JSON, as the outbox stores it", () => {
    for (const [, request] of table) {
      const stored: unknown = JSON.parse(JSON.stringify(request))
      expect(WriteRequest.validate(stored)).toEqual(Either.right(request))
    }
  })

  describe("validation gives InvalidRequest with field errors, before any request", () => {
    const cases: Array<[string, unknown, string]> = [
      ["a tweet without text or media", WriteRequest.tweet({ account }), "text"],
      ["an empty account", WriteRequest.like("", "1"), "account"],
      ["a tweet id with a slash", WriteRequest.like(account, "1/2"), "tweetId"],
      ["a DM without text", WriteRequest.sendDm({ account, to: "1", text: "" }), "text"],
      [
        "five media URLs",
        WriteRequest.tweetWithMedia({ account, media: Array.from({ length: 5 }, (_, i) => `https://e.com/${i}.png`) }),
        "media"
      ],
      [
        "a media path that is not a URL",
        WriteRequest.tweetWithMedia({ account, media: ["file:///etc/passwd"] }),
        "media.0"
      ],
      ["an unknown request", { _tag: "LaunchRocket", account }, "_tag"],
      ["an account with a newline", WriteRequest.like("@a\nb", "1"), "account"]
    ]
    for (const [name, input, path] of cases) {
      it(name, () => {
        const result = WriteRequest.validate(input)
        if (Either.isRight(result)) throw new Error("expected a validation error")
        expect(result.left._tag).toBe("InvalidRequest")
        expect(result.left.mayHaveDispatched).toBe(false)
        expect(result.left.fieldErrors.map((f) => f.path)).toContain(path)
      })
    }
  })
})

describe("IdempotencyKey", () => {
  it("make() returns a UUID v4", () => {
    const keys = new Set(Array.from({ length: 100 }, () => WriteRequest.IdempotencyKey.make()))
    expect(keys.size).toBe(100)
    for (const key of keys) expect(key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  })
  it("make(text) brands 1 to 255 printable ASCII characters and refuses others", () => {
    expect(WriteRequest.IdempotencyKey.make("job-184:attempt-1")).toBe("job-184:attempt-1")
    expect(WriteRequest.IdempotencyKey.make("~".repeat(255))).toHaveLength(255)
    for (const bad of ["", "a b", "ключ", "x".repeat(256), "a\tb"]) {
      expect(() => WriteRequest.IdempotencyKey.make(bad)).toThrow()
    }
  })
})
