// The upstream OpenID provider of the test run: node-oidc-provider in a process of its own
// (started by upstream-oidc.ts), with a few people, its own sign-in page and a test-only admin
// endpoint to add people, change their groups, disable them and revoke their grants at run time.
// Prints one line `READY <json>` when it listens. Never a production server: its people and
// secrets live in memory.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type Configuration, Provider } from 'oidc-provider';

const [host = '127.0.0.3', portText = '0', adminToken = ''] = process.argv.slice(2);

interface Person {
  sub: string;
  username: string;
  password: string;
  name?: string;
  email?: string;
  emailVerified?: boolean;
  groups: string[];
  disabled?: boolean;
}

/** The people every test may sign in as (tests that change someone add a person of their own). */
const people = new Map<string, Person>();
const add = (person: Person) => people.set(person.sub, person);
add({
  sub: 'u-ada',
  username: 'ada',
  password: 'ada-password',
  name: 'Ada Lovelace',
  email: 'ada@upstream.test',
  emailVerified: true,
  groups: ['engineers', 'db-admins'],
});
add({
  sub: 'u-grace',
  username: 'grace',
  password: 'grace-password',
  name: 'Grace Hopper',
  email: 'grace@upstream.test',
  emailVerified: true,
  groups: [],
});
// Claims an email another Lock user has (alice@example.com, a local account), never verified.
add({
  sub: 'u-eve',
  username: 'eve',
  password: 'eve-password',
  name: 'Eve',
  email: 'alice@example.com',
  emailVerified: false,
  groups: ['engineers'],
});

const byUsername = (username: string) => [...people.values()].find((person) => person.username === username);
// Grants per person, so that revoking a person's grants ends their refresh tokens.
const grants = new Map<string, Set<string>>();

const configuration: Configuration = {
  clients: [],
  findAccount: (_ctx, sub) => {
    const person = people.get(sub);
    if (!person || person.disabled) return undefined;
    return {
      accountId: sub,
      claims: () => ({
        sub,
        preferred_username: person.username,
        ...(person.name !== undefined && { name: person.name }),
        ...(person.email !== undefined && {
          email: person.email,
          email_verified: person.emailVerified === true,
        }),
        groups: person.groups,
      }),
    };
  },
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
    groups: ['groups'],
  },
  scopes: ['openid', 'offline_access', 'profile', 'email', 'groups'],
  features: {
    devInteractions: { enabled: false },
    // Tests register a client for their Lock (application_type native: any loopback port, RFC 8252).
    registration: { enabled: true },
    revocation: { enabled: true },
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  pkce: { required: () => true },
  // Lock asks for no offline_access: it is given refresh tokens anyway, as Entra ID and Okta do.
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: true,
  ttl: {
    AccessToken: 300,
    IdToken: 300,
    RefreshToken: 3600,
    Grant: 3600,
    Session: 3600,
    Interaction: 600,
    AuthorizationCode: 60,
  },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
};

const issuerPlaceholder = `http://${host}`;
let provider: Provider;
let providerCallback: ReturnType<Provider['callback']>;

const server = createServer((req, res) => {
  handle(req, res).catch((error: unknown) => {
    process.stderr.write(`upstream-oidc: ${String((error as Error).stack ?? error)}\n`);
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
    res.end('error');
  });
});
server.listen(Number(portText), host, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : Number(portText);
  provider = new Provider(`${issuerPlaceholder}:${port}`, configuration);
  providerCallback = provider.callback();
  provider.on('grant.saved', (grant: { jti: string; accountId?: string }) => {
    if (!grant.accountId) return;
    const set = grants.get(grant.accountId) ?? new Set();
    set.add(grant.jti);
    grants.set(grant.accountId, set);
  });
  process.stdout.write(`READY ${JSON.stringify({ issuer: `${issuerPlaceholder}:${port}` })}\n`);
});

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://upstream');
  if (url.pathname.startsWith('/test-admin/')) return admin(req, res, url);
  const interaction = /^\/interaction\/([^/]+)(\/abort)?$/.exec(url.pathname);
  if (interaction) return signIn(req, res, interaction[2] !== undefined);
  await providerCallback(req, res);
}

/** The sign-in page: a username and password form; consent is given without asking. */
async function signIn(req: IncomingMessage, res: ServerResponse, abort: boolean): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  if (abort) {
    await provider.interactionFinished(
      req,
      res,
      { error: 'access_denied', error_description: 'The person cancelled.' },
      { mergeWithLastSubmission: false },
    );
    return;
  }
  if (details.prompt.name === 'consent') {
    const grant = details.grantId
      ? (await provider.Grant.find(details.grantId))!
      : new provider.Grant({
          accountId: details.session!.accountId,
          clientId: String(details.params.client_id),
        });
    const missing = details.prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope((missing.missingOIDCScope as string[]).join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims as string[]);
    await provider.interactionFinished(
      req,
      res,
      { consent: { grantId: await grant.save() } },
      { mergeWithLastSubmission: true },
    );
    return;
  }
  if (req.method === 'POST') {
    const form = new URLSearchParams(await body(req));
    const person = byUsername(form.get('username') ?? '');
    if (person && !person.disabled && same(person.password, form.get('password') ?? '')) {
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId: person.sub, amr: ['pwd'] } },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    return page(res, details.uid, 'Wrong username or password.');
  }
  page(res, details.uid);
}

function page(res: ServerResponse, uid: string, error?: string): void {
  res.writeHead(error ? 401 : 200, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
  });
  res.end(`<!doctype html><html><head><title>Upstream sign-in</title></head><body>
<h1>Upstream sign-in</h1>${error ? `<p id="error">${error}</p>` : ''}
<form method="post" action="/interaction/${uid}">
  <label>Username <input name="username" autocomplete="off"></label>
  <label>Password <input name="password" type="password"></label>
  <button type="submit">Sign in</button>
</form>
<form method="post" action="/interaction/${uid}/abort"><button type="submit">Cancel</button></form>
</body></html>`);
}

/** Test-only administration, with the run's admin token. */
async function admin(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const given = Buffer.from(req.headers.authorization ?? '');
  const expected = Buffer.from(`Bearer ${adminToken}`);
  if (adminToken === '' || given.length !== expected.length || !timingSafeEqual(given, expected))
    return json(res, 401, { error: 'unauthorized' });
  const input = req.method === 'GET' ? {} : JSON.parse((await body(req)) || '{}');
  if (url.pathname === '/test-admin/users' && req.method === 'POST') {
    const sub = `u-${randomBytes(8).toString('hex')}`;
    add({
      sub,
      username: String(input.username),
      password: String(input.password),
      groups: input.groups ?? [],
      ...(input.name !== undefined && { name: input.name }),
      ...(input.email !== undefined && { email: input.email, emailVerified: input.emailVerified === true }),
    });
    return json(res, 201, { sub });
  }
  const match = /^\/test-admin\/users\/([^/]+)\/(groups|disable|revoke)$/.exec(url.pathname);
  const person = match && byUsername(decodeURIComponent(match[1]!));
  if (!match || !person) return json(res, 404, { error: 'no such person' });
  if (match[2] === 'groups') person.groups = input.groups;
  if (match[2] === 'disable') person.disabled = true;
  if (match[2] === 'revoke') {
    for (const jti of grants.get(person.sub) ?? []) await (await provider.Grant.find(jti))?.destroy();
    grants.delete(person.sub);
  }
  json(res, 200, { ok: true });
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
