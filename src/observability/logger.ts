import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs. Redaction is a second line of defence: code never logs secrets, but headers and
 * anything named like a secret are censored should one slip into a log object.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'workestra-payments' },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers["stripe-signature"]',
          'headers.authorization',
          '*.secretKey',
          '*.webhookSecret',
          '*.apiKey',
          '*.secret',
          'secretKey',
          'webhookSecret',
          'apiKey',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
