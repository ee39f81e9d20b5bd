import pino from 'pino';

export type Logger = pino.Logger;

/** JSON lines on stdout. Headers that carry credentials are never written. */
export function createLogger(level: string): Logger {
  return pino({
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
  });
}
