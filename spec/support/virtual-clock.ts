import { TestScheduler } from 'rxjs/testing';

/** A TestScheduler driven by hand: time moves only when the spec moves it, a frame at a time. */
export function virtualClock() {
  const scheduler = new TestScheduler(() => undefined);
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return {
    scheduler,
    /** Moves time to `ms`, letting the producer's promises run after every frame. */
    async advanceTo(ms: number): Promise<void> {
      await settle();
      while (scheduler.frame < ms) {
        scheduler.maxFrames = scheduler.frame + 1;
        scheduler.flush();
        scheduler.frame = scheduler.maxFrames;
        await settle();
      }
    },
    settle,
  };
}
