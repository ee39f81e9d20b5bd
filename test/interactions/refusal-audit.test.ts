import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AuditEvent } from '../../src/audit/audit.ts';
import { RefusalAudit } from '../../src/interactions/refusal-audit.ts';

describe('the audit of refusals anyone can post in bulk', () => {
  it('refusals racing across a minute boundary write the old minute’s count once, and one new first row', async () => {
    const written: AuditEvent[] = [];
    let now = 1_000;
    // Writing takes a while, as an INSERT does: the refusals meanwhile must not write again.
    const audit = new RefusalAudit(
      async (event) => {
        await sleep(5);
        written.push(event);
      },
      () => new Date(now),
    );
    const refusal: AuditEvent = {
      type: 'login.saml',
      outcome: 'failure',
      ip: '198.51.100.9',
      reason: 'garbage',
    };
    const refuse = (times: number) =>
      Promise.all(
        Array.from({ length: times }, () => audit.refused(refusal, 'unknown-request', 'SAML responses')),
      );

    await refuse(6);
    now = 61_000;
    await refuse(10);
    await audit.flush(true);

    assert.deepEqual(
      written.map((event) => event.details?.refusedCount ?? 'first'),
      ['first', 5, 'first', 9],
    );
  });
});
