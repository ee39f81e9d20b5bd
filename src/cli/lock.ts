#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=8 --heap-growing-percent=100
// The `lock` command. Human-readable output on stdout; errors on stderr with a non-zero exit.
import { exitWithError, print } from './output.ts';

const USAGE = `usage: lock <command>

  serve [--workers N|auto]   start the server (what \`npm start\` runs); --workers forks N processes
                             sharing the port (or LOCK_WORKERS), restarted when they crash
  migrate                    apply database migrations and exit
  config apply FILE          apply a declarative YAML file (idempotent)
  config check FILE          validate a declarative YAML file without touching the database
  config export [-o FILE]    the database as a declarative file (secrets as \${VARIABLE} placeholders)
  admin bootstrap [--reset-password]   create or repair the admin account (enabled, lock_admin)
  audit prune [--days N]     delete audit events older than the retention (LOCK_AUDIT_RETENTION_DAYS)
  keys rotate [--alg ALG]    add next signing keys, published now, signing after the JWKS cache lifetime
  keys export [--format jwks] [--alg ALG]...   the published public keys as a JWKS file (PostgREST)
  users add NAME [--email E] [--name N] [--group G]... [--role R]...   (password on stdin or prompted)
  users passwd NAME [--end-sessions]
  users disable NAME | users enable NAME
  users unlock NAME          lift a brute-force lockout of the account
  users totp-reset NAME      remove the account's TOTP authenticator and recovery codes (a lost device)
  users passkeys-reset NAME  remove every passkey of the account (lost devices)
  users apps NAME [--json]   the applications with access to the account (what /account lists)
  users app-remove NAME CLIENT   take back one application's access: its tokens end, its next sign-in asks again
  clients add ID [--public] [--first-party] [--name N] [--redirect-uri U]... [--grant-type G]...
                 [--role R]... [--resource URL]... [--id-token-signing-alg RS256|ES256|EdDSA]
                             (a confidential client's secret is printed once)
  users|clients|roles|resources|apis|role-mappings|connectors|groups|keys list [--json]
                             a table, or with --json what the admin API lists ({ "items": [...] })
  audit list [--from T] [--to T] [--actor A] [--type T] [--limit N] [--cursor C] [--json]
                             the audit log, newest first (the admin API's filters)

Configuration comes from the environment (see docs/configuration.md).`;

const commands: Record<string, (args: string[]) => Promise<void>> = {
  serve: async (args) => (await import('./serve.ts')).serveCommand(args),
  migrate: async () => (await import('./admin-commands.ts')).migrateCommand(),
  'config apply': async (args) => (await import('./admin-commands.ts')).configApplyCommand(requireFile(args)),
  'config check': async (args) => (await import('./admin-commands.ts')).configCheckCommand(requireFile(args)),
  'config export': async (args) => (await import('./config-export.ts')).configExportCommand(args),
  'admin bootstrap': async (args) => (await import('./config-export.ts')).adminBootstrapCommand(args),
  'users add': async (args) => (await import('./account-commands.ts')).usersAdd(args),
  'users passwd': async (args) => (await import('./account-commands.ts')).usersPasswd(args),
  'users disable': async (args) => (await import('./account-commands.ts')).usersSetDisabled(args, true),
  'users enable': async (args) => (await import('./account-commands.ts')).usersSetDisabled(args, false),
  'users unlock': async (args) => (await import('./account-commands.ts')).usersUnlock(args),
  'users totp-reset': async (args) => (await import('./account-commands.ts')).usersTotpReset(args),
  'users passkeys-reset': async (args) => (await import('./account-commands.ts')).usersPasskeysReset(args),
  'users apps': async (args) => (await import('./account-commands.ts')).usersApps(args),
  'users app-remove': async (args) => (await import('./account-commands.ts')).usersAppRemove(args),
  'clients add': async (args) => (await import('./account-commands.ts')).clientsAdd(args),
  'audit prune': async (args) => (await import('./admin-commands.ts')).auditPruneCommand(args),
  'keys rotate': async (args) => (await import('./admin-commands.ts')).keysRotateCommand(args),
  'keys export': async (args) => (await import('./admin-commands.ts')).keysExportCommand(args),
  ...Object.fromEntries(
    [
      'users',
      'clients',
      'roles',
      'resources',
      'apis',
      'role-mappings',
      'connectors',
      'groups',
      'keys',
      'audit',
    ].map((what) => [
      `${what} list`,
      async (args: string[]) => (await import('./listings.ts')).listCommand(what, args),
    ]),
  ),
};

function requireFile(args: string[]): string {
  const [file, ...rest] = args;
  if (!file || rest.length > 0) exitWithError(new Error(`expected one FILE argument\n\n${USAGE}`));
  return file;
}

const argv = process.argv.slice(2);
if (argv.length === 0 || argv[0] === '--help' || argv[0] === 'help') {
  print(USAGE);
  process.exit(argv.length === 0 ? 1 : 0);
}
const two = argv.slice(0, 2).join(' ');
const [name, args] = commands[two] ? [two, argv.slice(2)] : [argv[0]!, argv.slice(1)];
const command = commands[name];
if (!command) exitWithError(new Error(`unknown command "${argv.join(' ')}"\n\n${USAGE}`));
try {
  await command(args);
} catch (error) {
  exitWithError(error);
}
