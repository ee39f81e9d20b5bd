import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider';

/** Consumed refresh tokens and codes kept for reuse detection before the oldest is dropped. */
const CONSUMED_KEPT = 10_000;

/**
 * The bare provider's storage (bench/bare-provider.ts): maps in this process, every operation O(1).
 *
 * Not oidc-provider's MemoryAdapter. That one rewrites a grant's member list on every save — a scan
 * and a `Math.max` over every token the grant has ever had — so each rotation of a refresh chain
 * costs more than the one before: measured as the floor Lock's refresh is compared with, it rose
 * the longer the benchmark ran. Here a save is a map write and a set add; tokens past their expiry
 * are still found (oidc-provider checks `exp` itself), and only the newest CONSUMED_KEPT consumed
 * ones are kept, as long as a rotation chain's reuse check needs them.
 */
export function bareAdapter(): AdapterFactory {
  const payloads = new Map<string, AdapterPayload>();
  const grantMembers = new Map<string, Set<string>>();
  const sessionIds = new Map<string, string>();
  const userCodeIds = new Map<string, string>();
  const consumed: string[] = [];

  const drop = (member: string) => {
    const grantId = payloads.get(member)?.grantId;
    payloads.delete(member);
    if (grantId) grantMembers.get(grantId)?.delete(member);
  };

  return (model: string): Adapter => {
    const key = (id: string) => `${model}:${id}`;
    const find = async (id: string | undefined) => (id === undefined ? undefined : payloads.get(key(id)));
    return {
      async upsert(id, payload) {
        payloads.set(key(id), payload);
        if (payload.grantId) {
          const members = grantMembers.get(payload.grantId) ?? new Set();
          grantMembers.set(payload.grantId, members.add(key(id)));
        }
        if (model === 'Session' && payload.uid) sessionIds.set(payload.uid, id);
        if (payload.userCode) userCodeIds.set(payload.userCode, id);
      },
      find,
      findByUid: async (uid) => find(sessionIds.get(uid)),
      findByUserCode: async (userCode) => find(userCodeIds.get(userCode)),
      async consume(id) {
        const payload = payloads.get(key(id));
        if (!payload) return;
        payload.consumed = Math.floor(Date.now() / 1000);
        consumed.push(key(id));
        if (consumed.length > CONSUMED_KEPT) drop(consumed.shift()!);
      },
      async destroy(id) {
        drop(key(id));
      },
      async revokeByGrantId(grantId) {
        for (const member of grantMembers.get(grantId) ?? []) payloads.delete(member);
        grantMembers.delete(grantId);
      },
    };
  };
}
