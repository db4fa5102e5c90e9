import type { SesEventBridgeEvent } from '../../client/ses-events';

/** Receives every event the emulator publishes, in publication order. */
export type SesEventListener = (event: SesEventBridgeEvent) => void;

/** Events kept for {@link SesEventSink.list} / {@link SesEventSink.drain}; older ones are dropped first. */
const DEFAULT_RETAINED = 10_000;

/**
 * Where the emulator publishes SES events, standing in for the EventBridge default bus: in-process listeners get each
 * event as it is published, and the last events are retained so a poller (the control API's `/_emulator/events`) can
 * read or drain them. Events of every region go to the one sink; `event.region` tells them apart.
 */
export class SesEventSink {
  private readonly listeners = new Set<SesEventListener>();
  private retained: SesEventBridgeEvent[] = [];
  private pending = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly maxRetained = DEFAULT_RETAINED) {}

  /** Calls `listener` for every event published from now on; returns the function that unsubscribes it. */
  subscribe(listener: SesEventListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** The retained events, oldest first (copies of the array, the events are shared). */
  list(): SesEventBridgeEvent[] {
    return [...this.retained];
  }

  /** Returns the retained events and forgets them, so the next drain returns only newer events. */
  drain(): SesEventBridgeEvent[] {
    const out = this.retained;
    this.retained = [];
    return out;
  }

  /** Forgets the retained events (listeners stay subscribed). */
  clear(): void {
    this.retained = [];
  }

  /** Resolves once every accepted message has been processed (its events published, its suppressions applied). */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Messages accepted but not processed yet. */
  get pendingMessages(): number {
    return this.pending;
  }

  /** @internal publishes one event: listeners first, then retention. A throwing listener does not stop the others. */
  publish(event: SesEventBridgeEvent): void {
    this.retained.push(event);
    if (this.retained.length > this.maxRetained) this.retained.splice(0, this.retained.length - this.maxRetained);
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        process.stderr.write(`ses-emulator: event listener failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      }
    }
  }

  /** @internal a message was accepted; its events are still to come. */
  begin(): void {
    this.pending++;
  }

  /** @internal a message's processing finished (or was cancelled). */
  end(): void {
    this.pending = Math.max(0, this.pending - 1);
    if (this.pending === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
