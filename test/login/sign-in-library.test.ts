// The sign-in library (src/login/) on its own: no HTTP, no Koa, a real PostgreSQL. The routes'
// behaviour is proven end to end elsewhere (totp*.test.ts, sign-in-race.test.ts); here the outcomes
// the routes render are asserted as values, with real concurrency where the rule is about a race.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { LocalConnector } from '../../src/connectors/local/local-connector.ts';
import { PasswordSignIn } from '../../src/login/password-sign-in.ts';
import { SecondFactor } from '../../src/login/second-factor.ts';
import type { SignInRequest } from '../../src/login/sign-in-request.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { Metrics } from '../../src/observability/metrics.ts';
import { BruteForceGuard } from '../../src/security/brute-force.ts';
import { hashPassword, PasswordVerifyGate } from '../../src/security/passwords.ts';
import { SecretBox } from '../../src/security/secret-box.ts';
import { createUser } from '../../src/store/users.ts';
import { countAuditedAttempts } from '../helpers/audit.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { totpCode } from '../helpers/second-factor.ts';

const PASSWORD = 'correct horse battery staple';

describe('the sign-in library (src/login/), without HTTP', () => {
  let database: TestDatabase;
  let metrics: Metrics;
  let passwords: PasswordSignIn;
  let secondFactor: SecondFactor;
  let connector: LocalConnector;
  // Ten seconds into a 30-second step, so that a code cannot straddle a step boundary.
  let clock = Math.floor(Date.now() / 30_000) * 30_000 + 10_000;
  const now = () => new Date(clock);
  /** Clients whose sign-ins must use a second factor. */
  const strictClients = new Set(['strict-app']);

  before(async () => {
    database = await createTestDatabase();
    const { pool } = database;
    metrics = new Metrics(pool);
    const bruteForce = new BruteForceGuard(pool, undefined, now);
    secondFactor = new SecondFactor({
      pool,
      box: new SecretBox(Buffer.alloc(32, 7)),
      bruteForce,
      metrics,
      requiredRoles: [],
      clientRequiresMfa: (clientId) => strictClients.has(clientId),
      now,
    });
    passwords = new PasswordSignIn({
      pool,
      bruteForce,
      verifier: new PasswordVerifyGate({ concurrency: 4, queue: 64 }),
      metrics,
      secondFactor,
    });
    connector = new LocalConnector({ id: 'local', name: 'Lock accounts', db: pool });
    const passwordHash = await hashPassword(PASSWORD);
    for (const username of ['ada', 'grace', 'edsger']) await createUser(pool, { username, passwordHash });
  });
  after(() => database.drop());

  const request = (clientId = 'web-app'): SignInRequest => ({
    interaction: randomUUID(),
    clientId,
    ip: '192.0.2.10',
    userAgent: 'library test',
    requestId: randomUUID(),
  });
  const post = (username: string, password = PASSWORD) => ({
    connectors: [connector],
    username,
    password,
    log: createLogger('silent'),
  });
  const logins = async (outcome: string) =>
    (await metrics.logins.get()).values
      .filter((value) => value.labels.outcome === outcome)
      .reduce((sum, value) => sum + value.value, 0);

  it('signs in with the right password and returns the account and its methods, audited and counted', async () => {
    const before = await logins('success');
    const outcome = await passwords.signIn(request(), post('ada'));
    assert.equal(outcome.status, 'signed-in');
    assert.ok(outcome.status === 'signed-in');
    assert.deepEqual(outcome.login.amr, ['pwd']);
    assert.match(outcome.login.accountId, /\S/);
    assert.equal(await logins('success'), before + 1);
    assert.equal(
      await countAuditedAttempts(database.pool, {
        subject: 'ada',
        type: 'login.password',
        outcome: 'success',
      }),
      1,
    );
  });

  it('tells a wrong password and an unknown user the same, and audits both as failures', async () => {
    const wrong = await passwords.signIn(request(), post('ada', 'not the password'));
    const unknown = await passwords.signIn(request(), post('nobody-here', 'not the password'));
    assert.deepEqual(wrong, { status: 'failed', message: 'login.errors.invalid_credentials' });
    assert.deepEqual(unknown, wrong);
    assert.equal(
      await countAuditedAttempts(database.pool, {
        subject: 'nobody-here',
        type: 'login.password',
        outcome: 'failure',
      }),
      1,
    );
  });

  it('refuses the posts of one interaction beyond its budget, reserved before any is verified', async () => {
    const sameSignIn = request();
    const outcomes = await Promise.all(
      Array.from({ length: 24 }, () => passwords.signIn(sameSignIn, post('grace', 'wrong guess'))),
    );
    const spent = outcomes.filter((outcome) => outcome.status === 'interaction-spent').length;
    assert.equal(outcomes.length - spent, 10, 'exactly the interaction budget is checked');
    assert.ok(
      outcomes.every((outcome) => outcome.status === 'failed' || outcome.status === 'interaction-spent'),
    );
  });

  it('hands a right password to the second factor, and one interaction holds one account’s step only', async () => {
    const signIn = request('strict-app');
    const outcomes = await Promise.all(
      ['ada', 'edsger', 'ada', 'edsger', 'ada', 'edsger'].map((username) =>
        passwords.signIn(signIn, post(username)),
      ),
    );
    const statuses = outcomes.map((outcome) => outcome.status).sort();
    assert.deepEqual(statuses, [
      'another-second-factor-waiting',
      'another-second-factor-waiting',
      'another-second-factor-waiting',
      'another-second-factor-waiting',
      'another-second-factor-waiting',
      'second-factor',
    ]);
    const pending = await secondFactor.waiting(signIn.interaction);
    assert.ok(pending, 'the step waits in this interaction');
    assert.equal(pending.stage, 'enrol');
    await secondFactor.cancel(pending);
    assert.equal(await secondFactor.waiting(signIn.interaction), undefined);
  });

  let secret = '';

  it('enrols an authenticator: a wrong code keeps the step, the right one shows recovery codes once', async () => {
    const signIn = request('strict-app');
    assert.deepEqual(await passwords.signIn(signIn, post('ada')), { status: 'second-factor' });
    const pending = (await secondFactor.waiting(signIn.interaction))!;
    secret = secondFactor.enrolment(pending).secret;
    assert.match(secondFactor.enrolment(pending).otpauthUri, /^otpauth:\/\/totp\//);

    const wrong = totpCode(secret, clock) === '000000' ? '111111' : '000000';
    assert.deepEqual(await secondFactor.confirmEnrolment(signIn, pending, wrong), { status: 'wrong-code' });
    const enrolled = await secondFactor.confirmEnrolment(signIn, pending, totpCode(secret, clock));
    assert.equal(enrolled.status, 'enrolled');
    assert.ok(enrolled.status === 'enrolled');
    assert.equal(enrolled.recoveryCodes.length, 10);
    assert.equal(enrolled.pending.stage, 'recovery-codes');
    // The stage the first request saw is gone: a second confirmation of it changes nothing.
    assert.deepEqual(await secondFactor.confirmEnrolment(signIn, pending, totpCode(secret, clock)), {
      status: 'step-changed',
    });

    const done = await secondFactor.complete(signIn, enrolled.pending);
    assert.deepEqual(done.status === 'signed-in' && done.login.amr, ['pwd', 'otp']);
    // Only one of two completions signs in: the step is consumed.
    assert.deepEqual(await secondFactor.complete(signIn, enrolled.pending), { status: 'step-ended' });
  });

  it('checks at most five codes of one sign-in, even when twelve arrive at once, then ends the step', async () => {
    clock += 30_000;
    const signIn = request();
    assert.deepEqual(await passwords.signIn(signIn, post('ada')), { status: 'second-factor' });
    const pending = (await secondFactor.waiting(signIn.interaction))!;
    assert.equal(pending.stage, 'verify');
    const right = totpCode(secret, clock);
    const accepted = new Set([-1, 0, 1].map((offset) => totpCode(secret, clock, offset)));
    const guesses: string[] = [];
    for (let guess = Number(right) + 1; guesses.length < 12; guess++) {
      const code = String(guess % 1_000_000).padStart(6, '0');
      if (!accepted.has(code)) guesses.push(code);
    }
    const outcomes = await Promise.all(guesses.map((guess) => secondFactor.verify(signIn, pending, guess)));
    const count = (status: string) => outcomes.filter((outcome) => outcome.status === status).length;
    assert.equal(count('wrong-code'), 4, 'four wrong codes are told to try again');
    assert.ok(count('too-many-codes') >= 1, 'the fifth ends the step');
    assert.equal(count('signed-in'), 0);
    assert.equal(count('wrong-code') + count('too-many-codes') + count('step-ended'), 12);
    // The step is over: not even the right code finishes it now.
    assert.deepEqual(await secondFactor.verify(signIn, pending, right), { status: 'step-ended' });
    assert.equal(await secondFactor.waiting(signIn.interaction), undefined);
  });

  it('signs in with a right code once; the same code in another sign-in is a replay', async () => {
    clock += 30_000;
    const code = totpCode(secret, clock);
    const first = request();
    assert.deepEqual(await passwords.signIn(first, post('ada')), { status: 'second-factor' });
    const signedIn = await secondFactor.verify(first, (await secondFactor.waiting(first.interaction))!, code);
    assert.deepEqual(signedIn.status === 'signed-in' && signedIn.login.amr, ['pwd', 'otp']);

    const second = request();
    assert.deepEqual(await passwords.signIn(second, post('ada')), { status: 'second-factor' });
    const replay = await secondFactor.verify(second, (await secondFactor.waiting(second.interaction))!, code);
    assert.deepEqual(replay, { status: 'wrong-code' });
  });
});
