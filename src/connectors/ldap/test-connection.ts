import type { LdapConnection } from './connection.ts';
import { describeLdapError } from './connection.ts';
import { type Directory, DirectoryFailure, type FailedStep } from './directory.ts';
import { DirectoryEntry } from './entry.ts';
import { allOf, anyOf, parseFilter, present } from './filters.ts';
import { findGroupNames } from './groups.ts';
import { findUsersByName } from './users.ts';

export type TestStep = FailedStep | 'user search' | 'groups';

export interface ConnectionTestReport {
  ok: boolean;
  /** The server that answered, when one did. */
  url?: string;
  /** The steps in order, up to and including the first that failed. */
  steps: Array<{ step: TestStep; ok: boolean; detail: string; durationMs: number }>;
}

/**
 * Tries the directory step by step on a connection of its own (not the pool's): connect, TLS,
 * service bind, a user search (for `username`, or any one user) and that user's groups.
 */
export async function testDirectoryConnection(
  directory: Directory,
  options: { username?: string } = {},
): Promise<ConnectionTestReport> {
  const { settings } = directory;
  const report: ConnectionTestReport = { ok: false, steps: [] };
  const usesTls = settings.startTLS || settings.urls.some((url) => /^ldaps:/i.test(url));
  let started = performance.now();
  const record = (step: TestStep, ok: boolean, detail: string) => {
    const now = performance.now();
    report.steps.push({ step, ok, detail, durationMs: Math.round(now - started) });
    started = now;
  };

  let connection: LdapConnection | undefined;
  try {
    connection = await directory.connectAsService((connected) => {
      report.url = connected.url;
      record('connect', true, `connected to ${connected.url}`);
      record(
        'tls',
        true,
        usesTls
          ? `${settings.startTLS ? 'StartTLS' : 'TLS'} established${settings.insecureSkipVerify ? ' WITHOUT certificate verification (insecureSkipVerify)' : ', certificate verified'}`
          : 'no TLS (insecureNoTLS): passwords travel in clear text',
      );
    });
    record('service bind', true, `bound as ${settings.bindDN}`);
  } catch (error) {
    if (error instanceof DirectoryFailure) {
      if (error.step === 'tls') record('connect', true, 'connected');
      record(error.step, false, error.message);
    } else record('connect', false, describeLdapError(error, settings.timeoutMs));
    return report;
  }

  try {
    const user = await sampleUser(connection, directory, options.username);
    if (!user) {
      record(
        'user search',
        false,
        options.username === undefined
          ? `no entry under ${settings.userSearch.baseDN} matches ${settings.userSearch.filter}`
          : `no user named ${options.username} under ${settings.userSearch.baseDN}`,
      );
      return report;
    }
    record('user search', true, `found ${user.dn}`);
    if (settings.groupSearch) {
      const groups = await findGroupNames(connection, settings, user);
      record('groups', true, groups.length > 0 ? `groups: ${groups.join(', ')}` : 'no groups');
    }
    report.ok = true;
  } catch (error) {
    record(
      report.steps.at(-1)?.step === 'user search' ? 'groups' : 'user search',
      false,
      describeLdapError(error, settings.timeoutMs),
    );
  } finally {
    await connection.close();
  }
  return report;
}

async function sampleUser(
  connection: LdapConnection,
  directory: Directory,
  username: string | undefined,
): Promise<DirectoryEntry | undefined> {
  const { settings } = directory;
  if (username !== undefined) return (await findUsersByName(connection, settings, username))[0];
  const { userSearch } = settings;
  const [entry] = await connection.search({
    base: userSearch.baseDN,
    scope: userSearch.scope,
    filter: allOf(parseFilter(userSearch.filter), anyOf(userSearch.usernameAttributes.map(present))),
    attributes: [
      ...userSearch.usernameAttributes,
      ...(settings.groupSearch?.mode === 'memberOf' ? ['memberOf'] : []),
    ],
    sizeLimit: 1,
  });
  return entry ? new DirectoryEntry(entry) : undefined;
}
