import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';

export interface SmtpSettings {
  host: string;
  port: number;
  /** Implicit TLS (465); otherwise STARTTLS is used when the server offers it. */
  secure: boolean;
  username: string;
  password: string;
  from: string;
}

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

/** A send failure; `permanent` when retrying cannot help (the server refused the address). */
export class MailError extends Error {
  readonly code = 'MAIL';
  constructor(
    message: string,
    readonly permanent: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Sends email through one SMTP server (nodemailer, pooled connection). Rebuilt when the settings
 * change; `close()` is idempotent.
 */
export class Mailer {
  private readonly transport: Transporter<SMTPTransport.SentMessageInfo>;
  private closed = false;

  constructor(readonly settings: SmtpSettings) {
    this.transport = nodemailer.createTransport({
      host: settings.host,
      port: settings.port,
      secure: settings.secure,
      auth: settings.username ? { user: settings.username, pass: settings.password } : undefined,
      pool: true,
      maxConnections: 2,
      connectionTimeout: 5_000,
      greetingTimeout: 5_000,
      socketTimeout: 10_000,
      // Local relays commonly have self-signed certificates; STARTTLS still encrypts.
      tls: { rejectUnauthorized: false },
    });
  }

  async send(m: MailMessage): Promise<string> {
    try {
      const info = await this.transport.sendMail({
        from: this.settings.from,
        to: m.to,
        subject: m.subject,
        text: m.text,
      });
      return info.messageId;
    } catch (err) {
      const e = err as { responseCode?: number; message?: string };
      // 5xx SMTP answers are permanent (bad address, refused); connection errors and 4xx are not.
      const permanent = typeof e.responseCode === 'number' && e.responseCode >= 500;
      throw new MailError(`email not sent: ${e.message ?? String(err)}`, permanent, { cause: err });
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.transport.close();
  }
}

/** Same settings, same mailer: rebuilt only when the configuration changed. */
export function sameSmtpSettings(a: SmtpSettings, b: SmtpSettings): boolean {
  return (
    a.host === b.host &&
    a.port === b.port &&
    a.secure === b.secure &&
    a.username === b.username &&
    a.password === b.password &&
    a.from === b.from
  );
}
