import type { Config } from '../../config/config.js';
import type { Mailer } from '../../mail/mailer.js';
import type { Alert } from './alert-rules.js';
import { PublicAddressPolicy } from './address-policy.js';
import { NodeHttpTransport, SafeWebhookClient, SystemResolver } from './safe-webhook.client.js';

/** What is being said about an alert. */
export type NotificationKind = 'firing' | 'reminder' | 'resolved' | 'test';

export interface AlertNotification {
  kind: NotificationKind;
  alert: Alert;
  at: Date;
  /** The appliance's public URL, so the reader knows which machine speaks. */
  appliance: string;
}

/** A delivery channel for alerts. */
export interface AlertNotifier {
  readonly name: string;
  send(n: AlertNotification): Promise<void>;
}

const PREFIX: Record<NotificationKind, string> = { firing: 'ALERTE', reminder: 'RAPPEL', resolved: 'RÉSOLU', test: 'TEST' };

/** Subject line shared by every channel. */
export function notificationSubject(n: AlertNotification): string {
  return `[Officine ${PREFIX[n.kind]}] ${n.alert.title}`;
}

/** Emails through the appliance's mailer (SMTP relay, or the outbox in the demo). */
export class EmailNotifier implements AlertNotifier {
  readonly name = 'email';

  constructor(
    private readonly mailer: Mailer,
    private readonly to: readonly string[],
  ) {}

  async send(n: AlertNotification): Promise<void> {
    const text = [
      notificationSubject(n),
      '',
      n.alert.detail,
      '',
      `Gravité : ${n.alert.severity === 'critical' ? 'critique' : 'avertissement'}`,
      `Règle : ${n.alert.rule}`,
      `Appliance : ${n.appliance}`,
      `Date : ${n.at.toISOString()}`,
      '',
      'Message automatique de l’appliance Officine (commande « appliance status » pour le détail).',
    ].join('\n');
    await this.mailer.send({ to: this.to.join(', '), subject: notificationSubject(n), text });
  }
}

/** Posts each alert as JSON to the configured webhook URLs through the SSRF-safe client. */
export class WebhookNotifier implements AlertNotifier {
  readonly name = 'webhook';

  constructor(private readonly client: SafeWebhookClient, private readonly urls: readonly string[]) {}

  async send(n: AlertNotification): Promise<void> {
    const payload = {
      source: 'officine-appliance',
      appliance: n.appliance,
      kind: n.kind,
      key: n.alert.key,
      rule: n.alert.rule,
      severity: n.alert.severity,
      title: n.alert.title,
      detail: n.alert.detail,
      text: `${notificationSubject(n)}\n${n.alert.detail}`,
      at: n.at.toISOString(),
    };
    const errors: string[] = [];
    for (const url of this.urls) {
      try {
        await this.client.post(url, payload);
      } catch (err) {
        errors.push(`${new URL(url).host}: ${(err as Error).message}`);
      }
    }
    if (errors.length) throw new Error(`webhook delivery failed: ${errors.join('; ')}`);
  }
}

/** The notifiers configured for production (email when recipients are set, webhooks when URLs are). */
export function createNotifiers(config: Config, mailer: Mailer): AlertNotifier[] {
  const out: AlertNotifier[] = [];
  if (config.ALERT_EMAIL_TO.length) out.push(new EmailNotifier(mailer, config.ALERT_EMAIL_TO));
  if (config.ALERT_WEBHOOK_URLS.length) {
    const client = new SafeWebhookClient({
      allowedHosts: config.ALERT_WEBHOOK_ALLOWED_HOSTS,
      policy: new PublicAddressPolicy(),
      resolver: new SystemResolver(),
      transport: new NodeHttpTransport(),
    });
    out.push(new WebhookNotifier(client, config.ALERT_WEBHOOK_URLS));
  }
  return out;
}
