import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Config } from '../config/config.js';
import { readSecretFile } from '../config/secrets.js';

/** One plain-text message (French for pharmacists). */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

/** What services receive to send email: the real SMTP transport, the demo outbox, or a fake in tests. */
export interface Mailer {
  send(msg: MailMessage): Promise<void>;
}

/** Sends through the groupement's SMTP relay (nodemailer). */
export class SmtpMailer implements Mailer {
  private readonly transport: Transporter;

  constructor(private readonly config: Config) {
    const password = config.SMTP_PASSWORD_FILE ? readSecretFile(config.SMTP_PASSWORD_FILE).toString('utf8').trim() : undefined;
    this.transport = nodemailer.createTransport({
      host: config.SMTP_HOST,
      port: config.SMTP_PORT,
      secure: config.SMTP_TLS === 'tls',
      requireTLS: config.SMTP_TLS === 'starttls',
      ignoreTLS: config.SMTP_TLS === 'none',
      auth: config.SMTP_USER ? { user: config.SMTP_USER, pass: password ?? '' } : undefined,
      connectionTimeout: 10_000,
      socketTimeout: 20_000,
    });
  }

  async send(msg: MailMessage): Promise<void> {
    await this.transport.sendMail({ from: this.config.MAIL_FROM, to: msg.to, subject: msg.subject, text: msg.text });
  }
}

/** Writes each message as an .eml file (0600) under DATA_DIR/outbox: the demo has no SMTP relay. */
export class OutboxMailer implements Mailer {
  private readonly transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });

  constructor(
    private readonly dir: string,
    private readonly from: string,
  ) {}

  async send(msg: MailMessage): Promise<void> {
    const info = (await this.transport.sendMail({ from: this.from, to: msg.to, subject: msg.subject, text: msg.text })) as { message: Buffer };
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${Math.random().toString(36).slice(2, 8)}.eml`;
    writeFileSync(join(this.dir, name), info.message, { mode: 0o600 });
  }
}

/** The mailer the configuration asks for: SMTP when SMTP_HOST is set, the outbox otherwise. */
export function createMailer(config: Config): Mailer {
  return config.SMTP_HOST ? new SmtpMailer(config) : new OutboxMailer(join(config.dataDir, 'outbox'), config.MAIL_FROM);
}
