/** A real server the suite talks to, started once per `npm test` run. */
export interface Peer {
  name: string;
  /** Environment the test files read to reach the peer (e.g. LOCK_TEST_DATABASE_URL). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** A test that needs an absent peer fails (it never skips): CI=true or not. */
export function requirePeerEnv(name: string, hint: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(`${name} is not set: ${hint}. Run tests with \`npm test\` (or \`npm test -- FILE\`).`);
  return value;
}
