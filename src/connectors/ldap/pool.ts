export interface PoolOptions<T> {
  /** The most connections open at once; callers beyond it wait their turn. */
  size: number;
  /** How long a caller may wait for a free connection before giving up. */
  acquireTimeoutMs: number;
  /** Idle connections close after this long, so a dropped connector leaves nothing open. */
  idleTimeoutMs: number;
  create(): Promise<T>;
  isUsable(resource: T): boolean;
  destroy(resource: T): Promise<void>;
}

interface Waiter<T> {
  resolve(resource: T | undefined): void;
  timer: NodeJS.Timeout;
}

/** A small bounded pool: resources are reused across requests; a broken one is discarded. */
export class Pool<T> {
  readonly #options: PoolOptions<T>;
  readonly #idle: Array<{ resource: T; timer: NodeJS.Timeout }> = [];
  readonly #waiters: Waiter<T>[] = [];
  #open = 0;

  constructor(options: PoolOptions<T>) {
    this.#options = options;
  }

  /**
   * Runs `work` with a resource. When `work` throws, `isBroken(error)` decides whether the
   * resource goes back to the pool or is destroyed. A pooled resource that turns out broken (the
   * server closed it while it sat idle) is replaced and `work` runs once more on a new one.
   */
  async use<R>(work: (resource: T) => Promise<R>, isBroken: (error: unknown) => boolean): Promise<R> {
    const { resource, reused } = await this.#acquire(false);
    try {
      return await this.#run(resource, work, isBroken);
    } catch (error) {
      if (!reused || !isBroken(error)) throw error;
    }
    const fresh = await this.#acquire(true);
    return this.#run(fresh.resource, work, isBroken);
  }

  async #run<R>(resource: T, work: (resource: T) => Promise<R>, isBroken: (error: unknown) => boolean) {
    let broken = false;
    try {
      return await work(resource);
    } catch (error) {
      broken = isBroken(error);
      throw error;
    } finally {
      if (broken || !this.#options.isUsable(resource)) this.#discard(resource);
      else this.#release(resource);
    }
  }

  async #acquire(fresh: boolean): Promise<{ resource: T; reused: boolean }> {
    while (!fresh && this.#idle.length > 0) {
      const { resource, timer } = this.#idle.pop()!;
      clearTimeout(timer);
      if (this.#options.isUsable(resource)) return { resource, reused: true };
      this.#discard(resource);
    }
    if (this.#open < this.#options.size) {
      this.#open += 1;
      try {
        return { resource: await this.#options.create(), reused: false };
      } catch (error) {
        this.#open -= 1;
        this.#wakeOne();
        throw error;
      }
    }
    const handedOver = await new Promise<T | undefined>((resolve) => {
      const waiter: Waiter<T> = {
        resolve,
        timer: setTimeout(() => {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          resolve(undefined);
        }, this.#options.acquireTimeoutMs),
      };
      this.#waiters.push(waiter);
    });
    if (handedOver !== undefined) return { resource: handedOver, reused: true };
    if (this.#open < this.#options.size) return this.#acquire(fresh);
    throw new Error(
      `no free connection within ${this.#options.acquireTimeoutMs} ms (pool of ${this.#options.size})`,
    );
  }

  #release(resource: T): void {
    const waiter = this.#waiters.shift();
    if (waiter) {
      clearTimeout(waiter.timer);
      waiter.resolve(resource);
      return;
    }
    const timer = setTimeout(() => {
      const index = this.#idle.findIndex((idle) => idle.resource === resource);
      if (index >= 0) {
        this.#idle.splice(index, 1);
        this.#discard(resource);
      }
    }, this.#options.idleTimeoutMs);
    timer.unref();
    this.#idle.push({ resource, timer });
  }

  #discard(resource: T): void {
    this.#open -= 1;
    this.#options.destroy(resource).catch(() => {
      // already gone
    });
    this.#wakeOne();
  }

  /** A slot freed up: the first waiter may open a connection of its own. */
  #wakeOne(): void {
    const waiter = this.#waiters.shift();
    if (!waiter) return;
    clearTimeout(waiter.timer);
    waiter.resolve(undefined);
  }

  /** Closes the idle resources (those in use close when they come back). */
  async drain(): Promise<void> {
    const idle = this.#idle.splice(0);
    for (const { timer } of idle) clearTimeout(timer);
    this.#open -= idle.length;
    await Promise.all(idle.map(({ resource }) => this.#options.destroy(resource).catch(() => {})));
  }
}
