import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { addressBucket, normaliseUsername } from '../../src/security/brute-force.ts';

const group = fc.integer({ min: 0, max: 0xffff });
const groups = fc.array(group, { minLength: 8, maxLength: 8 });
const full = (parts: number[]) => parts.map((part) => part.toString(16)).join(':');
/** The same address with its longest run of zero groups written as `::`, as a client may send it. */
const compressed = (parts: number[]) => {
  let best = { start: -1, length: 0 };
  for (let start = 0; start < 8; start++) {
    let length = 0;
    while (start + length < 8 && parts[start + length] === 0) length++;
    if (length > best.length) best = { start, length };
  }
  if (best.length < 2) return full(parts);
  const head = parts.slice(0, best.start).map((part) => part.toString(16));
  const tail = parts.slice(best.start + best.length).map((part) => part.toString(16));
  return `${head.join(':')}::${tail.join(':')}`;
};

describe('brute-force keys', () => {
  it('counts IPv6 per /64: the host half never changes the key, the network half always does', () => {
    fc.assert(
      fc.property(groups, groups, (a, b) => {
        const sameNetwork = [...a.slice(0, 4), ...b.slice(4)];
        assert.equal(addressBucket(compressed(a)), addressBucket(full(sameNetwork)));
        const otherNetwork = [...b.slice(0, 4), ...a.slice(4)];
        if (a.slice(0, 4).join() !== b.slice(0, 4).join())
          assert.notEqual(addressBucket(full(a)), addressBucket(full(otherNetwork)));
      }),
    );
    assert.equal(addressBucket('2001:db8:1:2:aaaa:bbbb:cccc:dddd'), '2001:db8:1:2::/64');
    assert.equal(addressBucket('::1'), '0:0:0:0::/64');
  });

  it('keeps IPv4 as it is, also when it arrives mapped into IPv6', () => {
    assert.equal(addressBucket('192.0.2.7'), '192.0.2.7');
    assert.equal(addressBucket('::ffff:192.0.2.7'), '192.0.2.7');
  });

  it('normalises typed names: NFKC, case-folded, trimmed', () => {
    for (const typed of ['alice', 'ALICE', ' Alice ', 'ａｌｉｃｅ', 'ＡＬＩＣＥ'])
      assert.equal(normaliseUsername(typed), 'alice');
    assert.equal(normaliseUsername('STRASSE'), normaliseUsername('straße'));
  });
});
