import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { BOOTSTRAP_ADMIN, repairBootstrapAdmin } from '../admin/bootstrap.ts';
import { exportDeclarativeConfig } from '../admin/config-export.ts';
import { print } from './output.ts';
import { withSession } from './session.ts';

/**
 * `lock config export [--output FILE]`: the database as a declarative file (stdout by default).
 * The variables the file expects go to stderr, so that stdout stays the file.
 */
export async function configExportCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { output: { type: 'string', short: 'o' } } });
  if (positionals.length > 0) throw new Error('usage: lock config export [--output FILE]');
  await withSession(async ({ database }) => {
    const { yaml, variables } = await exportDeclarativeConfig(database.pool);
    // Password hashes inside: readable by the owner only.
    if (values.output) await writeFile(values.output, yaml, { mode: 0o600 });
    else process.stdout.write(yaml);
    process.stderr.write(
      variables.length === 0
        ? 'the exported file expects no environment variables\n'
        : `the exported file expects these environment variables (Lock cannot export secrets in clear):\n${variables
            .map((variable) => `  ${variable.name}  ${variable.holds}\n`)
            .join('')}`,
    );
  });
}

/** `lock admin bootstrap [--reset-password]`: create or repair the `admin` account. */
export async function adminBootstrapCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { 'reset-password': { type: 'boolean' } } });
  const password = process.env.LOCK_BOOTSTRAP_ADMIN_PASSWORD || undefined;
  await withSession(async ({ database }) => {
    const result = await repairBootstrapAdmin(database.pool, {
      ...(password !== undefined && { password }),
      resetPassword: values['reset-password'] === true,
    });
    if (result.created) print(`created the account ${BOOTSTRAP_ADMIN} with the role lock_admin`);
    for (const repair of result.repaired) print(`${BOOTSTRAP_ADMIN}: ${repair}`);
    if (!result.created && result.repaired.length === 0)
      print(`${BOOTSTRAP_ADMIN} is fine: nothing to repair`);
    if (result.generatedPassword)
      print(`password of ${BOOTSTRAP_ADMIN} (shown once, store it now): ${result.generatedPassword}`);
  });
}
