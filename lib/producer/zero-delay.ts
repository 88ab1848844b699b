import { asapScheduler, asyncScheduler, type SchedulerLike } from 'rxjs';

/**
 * The scheduler for work that should run "as soon as the current work is done". On the real clock
 * RxJS's asyncScheduler is Node's setTimeout, which raises a 0 ms wait to 1 ms and runs it only
 * after I/O: a millisecond added to every record that passes such a wait. asapScheduler runs a
 * 0 ms action as a microtask (and a longer wait as a timer, as before). An injected scheduler
 * (TestScheduler, a user's own) keeps its own semantics.
 */
export function zeroDelayScheduler(scheduler: SchedulerLike): SchedulerLike {
  return scheduler === asyncScheduler ? asapScheduler : scheduler;
}
