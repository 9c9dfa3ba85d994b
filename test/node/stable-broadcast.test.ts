/**
 * StableBroadcast (src/node/stable-broadcast.ts): the node's stable time goes to its actors
 * at most once a period, the first change at once, later ones as one post of the latest.
 */
import { StableBroadcast } from "../../src/node/stable-broadcast";
import type { StableTime } from "../../src/node/stable-time";

describe("StableBroadcast", () => {
  let nowMs = 0;
  let posts: StableTime[] = [];
  let broadcast: StableBroadcast;

  beforeEach(() => {
    jest.useFakeTimers();
    nowMs = 1000;
    posts = [];
    broadcast = new StableBroadcast(
      10,
      (stable) => posts.push(stable),
      () => nowMs,
    );
  });

  afterEach(() => {
    broadcast.stop();
    jest.useRealTimers();
  });

  /** Moves the injected clock and the fake timers together. */
  function advance(ms: number): void {
    nowMs += ms;
    jest.advanceTimersByTime(ms);
  }

  it("posts a first change at once and coalesces the period's later ones into their latest", () => {
    broadcast.offer({ micros: 1, epoch: 7 });
    expect(posts).toEqual([{ micros: 1, epoch: 7 }]);
    advance(2);
    broadcast.offer({ micros: 2, epoch: 7 });
    advance(2);
    broadcast.offer({ micros: 3, epoch: 7 });
    expect(posts).toHaveLength(1);
    advance(6);
    expect(posts).toEqual([
      { micros: 1, epoch: 7 },
      { micros: 3, epoch: 7 },
    ]);
    // Nothing new: nothing posted at the next period's end.
    advance(20);
    expect(posts).toHaveLength(2);
  });

  it("posts at once again after a quiet period", () => {
    broadcast.offer({ micros: 1, epoch: 7 });
    advance(50);
    broadcast.offer({ micros: 2, epoch: 8 });
    expect(posts).toEqual([
      { micros: 1, epoch: 7 },
      { micros: 2, epoch: 8 },
    ]);
  });

  it("holds 100 changes a second to 100 posts however many come", () => {
    for (let ms = 0; ms < 1000; ms++) {
      for (let report = 0; report < 16; report++) broadcast.offer({ micros: ms * 16 + report, epoch: 1 });
      advance(1);
    }
    expect(posts.length).toBeGreaterThanOrEqual(99);
    expect(posts.length).toBeLessThanOrEqual(101);
    expect(posts.at(-1)!.micros).toBeGreaterThanOrEqual(999 * 16 - 10 * 16);
  });

  it("drops a pending post when stopped, and refuses a period that is not positive", () => {
    broadcast.offer({ micros: 1, epoch: 7 });
    broadcast.offer({ micros: 2, epoch: 7 });
    broadcast.stop();
    advance(20);
    expect(posts).toEqual([{ micros: 1, epoch: 7 }]);
    expect(() => new StableBroadcast(0, () => undefined)).toThrow(/positive/);
  });
});
