// The SMTP server of the test run: the `smtp-server` package in a process of its own (started by
// smtp.ts). It accepts mail only after AUTH PLAIN/LOGIN with the run's credentials, and writes each
// message, as received, into the mailbox directory as one .eml file (written aside, then renamed,
// so a reader never sees half a message). Prints one line `READY <json>` when it listens.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';

const [host = '127.0.0.1', portText = '0', mailbox = '', username = '', password = ''] =
  process.argv.slice(2);
if (mailbox === '' || username === '' || password === '')
  throw new Error('usage: smtp-server.ts HOST PORT MAILBOX USERNAME PASSWORD');

const same = (a: string, b: string) => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

const server = new SMTPServer({
  // Loopback only, plain SMTP: the test run has no certificate, and nothing leaves the machine.
  disabledCommands: ['STARTTLS'],
  allowInsecureAuth: true,
  authMethods: ['PLAIN', 'LOGIN'],
  size: 1024 * 1024,
  logger: false,
  onAuth(auth, _session, callback) {
    if (same(auth.username ?? '', username) && same(auth.password ?? '', password))
      return callback(null, { user: auth.username });
    return callback(new Error('Invalid username or password'));
  },
  onMailFrom(_address, session, callback) {
    if (!session.user) return callback(new Error('Authentication required'));
    callback();
  },
  onData(stream, _session, callback) {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      const name = `${Date.now()}-${randomBytes(6).toString('hex')}`;
      const aside = join(mailbox, `.${name}.tmp`);
      writeFile(aside, Buffer.concat(chunks))
        .then(() => rename(aside, join(mailbox, `${name}.eml`)))
        .then(
          () => callback(),
          (error: Error) => callback(error),
        );
    });
  },
});

server.listen(Number(portText), host, () => {
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`READY ${JSON.stringify({ host, port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
