import pino from 'pino';

export type Logger = pino.Logger;

/**
 * JSON lines on stdout (the server's), or on `destination` (the CLI's: stderr, so stdout stays a
 * command's product). Headers that carry credentials are never written.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'lock' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        '*.password',
        '*.clientSecret',
        '*.client_secret',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
