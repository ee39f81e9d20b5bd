import type { AuditEvent } from '../audit/audit.ts';

const WINDOW_MS = 60_000;
// Distinct (connector, address, check) keys kept per window; beyond, one shared key counts the rest.
const MAX_KEYS = 10_000;

interface Tally {
  windowStart: number;
  event: AuditEvent;
  check: string;
  /** What was refused, for the summary: `SAML responses`. */
  what: string;
  /** Refusals after the first of the window (which was recorded in full). */
  more: number;
  lastReason: string | undefined;
}

/**
 * Audit of what anyone can post in bulk (refusals by the ACS's cheap checks): the first refusal of
 * a kind from an address in a minute is recorded in full; the rest of that minute become one row
 * with their count, written when the minute is over. 200 garbage posts make two rows, not 200.
 * Per process: each Lock process aggregates its own share.
 */
export class RefusalAudit {
  readonly #record: (event: AuditEvent) => Promise<void>;
  readonly #now: () => Date;
  readonly #tallies = new Map<string, Tally>();
  #timer: NodeJS.Timeout | undefined;

  constructor(record: (event: AuditEvent) => Promise<void>, now: () => Date) {
    this.#record = record;
    this.#now = now;
  }

  async refused(event: AuditEvent, check: string, what: string): Promise<void> {
    const now = this.#now().getTime();
    const windowStart = now - (now % WINDOW_MS);
    let key = `${event.connector ?? ''}\n${event.ip ?? ''}\n${check}`;
    if (!this.#tallies.has(key) && this.#tallies.size >= MAX_KEYS) key = `*\n*\n${check}`;
    const tally = this.#tallies.get(key);
    if (tally && tally.windowStart === windowStart) {
      tally.more++;
      tally.lastReason = event.reason;
      return;
    }
    // The new minute's tally is in place before anything is awaited: a refusal arriving meanwhile
    // counts there instead of writing the old minute's summary (and a first row) a second time.
    this.#tallies.set(key, { windowStart, event, check, what, more: 0, lastReason: undefined });
    if (tally) await this.#writeSummary(tally);
    this.#timer ??= setInterval(() => void this.flush().catch(() => {}), WINDOW_MS).unref();
    await this.#record({ ...event, details: { ...event.details, check } });
  }

  /** Writes the counts of every minute that is over (all of them with `everything`). */
  async flush(everything = false): Promise<void> {
    const now = this.#now().getTime();
    for (const [key, tally] of this.#tallies)
      if (everything || tally.windowStart + WINDOW_MS <= now) {
        this.#tallies.delete(key);
        await this.#writeSummary(tally);
      }
    if (this.#tallies.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  async #writeSummary(tally: Tally): Promise<void> {
    if (tally.more === 0) return;
    const from = new Date(tally.windowStart).toISOString();
    const to = new Date(tally.windowStart + WINDOW_MS).toISOString();
    await this.#record({
      type: tally.event.type,
      outcome: tally.event.outcome,
      ...(tally.event.connector !== undefined && { connector: tally.event.connector }),
      ...(tally.event.ip !== undefined && { ip: tally.event.ip }),
      reason: `${tally.more} more ${tally.what} refused (${tally.check}) from this address between ${from} and ${to}; the last: ${tally.lastReason ?? ''}`,
      details: { check: tally.check, refusedCount: tally.more, windowStart: from, windowEnd: to },
    });
  }
}
