import type { ConfigSnapshot } from '@smsfleet/config';
import { Mailer, sameSmtpSettings, type SmtpSettings } from '@smsfleet/mail';

/** The SMTP settings of a config snapshot; undefined when no server is configured. */
export function smtpSettings(cfg: ConfigSnapshot): SmtpSettings | undefined {
  if (cfg.smtpserver.trim() === '') return undefined;
  return {
    host: cfg.smtpserver.trim(),
    port: cfg.smtpport,
    secure: cfg.smtpsecure,
    username: cfg.smtpusername,
    password: cfg.smtppassword,
    from: cfg.smtpfrom,
  };
}

/** One Mailer for the current configuration, rebuilt when the smtp* keys change. */
export class MailerHolder {
  private mailer: Mailer | undefined;

  constructor(private readonly config: () => ConfigSnapshot) {}

  current(): Mailer | undefined {
    const s = smtpSettings(this.config());
    if (!s) {
      this.close();
      return undefined;
    }
    if (!this.mailer || !sameSmtpSettings(this.mailer.settings, s)) {
      this.close();
      this.mailer = new Mailer(s);
    }
    return this.mailer;
  }

  close(): void {
    this.mailer?.close();
    this.mailer = undefined;
  }
}
