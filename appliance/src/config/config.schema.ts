import { z } from 'zod';

const LOOPBACK = ['127.0.0.1', '::1', 'localhost'];

const csv = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));

/**
 * The one typed description of every setting the appliance reads from its
 * environment. Anything not here is not configurable; anything here is validated
 * before the process does any work.
 */
export const configSchema = z.object({
  NODE_ENV: z.enum(['production', 'development', 'test']).default('production'),
  HOST: z
    .string()
    .default('127.0.0.1')
    .refine((h) => LOOPBACK.includes(h), 'must be a loopback address: only Caddy listens beyond loopback'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  DATA_DIR: z.string().min(1).default('./var'),
  SECRETS_DIR: z.string().min(1).optional(),
  PUBLIC_URL: z.url('must be an absolute URL').default('http://127.0.0.1:8080'),
  TRUSTED_PROXIES: csv.default(['127.0.0.1', '::1']),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BODY_LIMIT_KB: z.coerce.number().int().min(1).max(65536).default(1024),
  SECURITY_CONTACT: z
    .string()
    .regex(/^(mailto:|https:\/\/)/, 'must start with mailto: or https://')
    .default('mailto:security@officine.invalid'),
  SECURITY_POLICY_URL: z.url().optional(),
  SECURITY_TXT_EXPIRES: z.iso.datetime({ offset: true }).optional(),

  // Identity and sessions (auth/).
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(900).default(600),
  SESSION_IDLE_MINUTES: z.coerce.number().int().min(1).max(24 * 60).default(30),
  SESSION_ABSOLUTE_HOURS: z.coerce.number().int().min(1).max(7 * 24).default(12),
  REFRESH_REUSE_GRACE_SECONDS: z.coerce.number().int().min(0).max(30).default(5),
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(3).max(20).default(5),
  LOGIN_LOCK_MINUTES: z.coerce.number().int().min(1).max(24 * 60).default(15),
  RATE_LIMIT_READS_PER_MIN: z.coerce.number().int().min(1).default(1000),
  RATE_LIMIT_WRITES_PER_MIN: z.coerce.number().int().min(1).default(100),
  RATE_LIMIT_PUBLIC_PER_MIN: z.coerce.number().int().min(1).default(5),

  // Outgoing email (nodemailer). Without SMTP_HOST, messages are written to DATA_DIR/outbox.
  SMTP_HOST: z.string().min(1).optional(),
  SMTP_PORT: z.coerce.number().int().min(1).max(65535).default(587),
  SMTP_TLS: z.enum(['starttls', 'tls', 'none']).default('starttls'),
  SMTP_USER: z.string().min(1).optional(),
  /** File (0600) holding the SMTP password; never the password itself in the environment. */
  SMTP_PASSWORD_FILE: z.string().min(1).optional(),
  MAIL_FROM: z.string().min(3).default('Officine Appliance <no-reply@officine.invalid>'),
  // --- Backups (appliance/src/backup) ---
  /** Public age X25519 recipients (vault + drill), comma-separated; never a private key. */
  BACKUP_RECIPIENTS: csv
    .default([])
    .refine((l) => l.every((r) => /^age1[02-9ac-hj-np-z]{58}$/.test(r)), 'each recipient must be an age X25519 public key (age1…)'),
  /** Alternatively, an age recipients file (one age1… per line, # comments). */
  BACKUP_RECIPIENTS_FILE: z.string().min(1).optional(),
  /** Targets that receive every backup: any of s3, nas. */
  BACKUP_TARGETS: csv
    .default([])
    .refine((l) => l.every((x) => x === 's3' || x === 'nas'), 'targets are s3 and/or nas'),
  /** When the nightly backup runs (node-cron syntax, in BACKUP_TIMEZONE). */
  BACKUP_CRON: z.string().min(9).default('30 2 * * *'),
  BACKUP_TIMEZONE: z.string().min(1).default('Europe/Paris'),
  BACKUP_KEEP_DAILY: z.coerce.number().int().min(1).max(3650).default(35),
  BACKUP_KEEP_MONTHLY_DAYS: z.coerce.number().int().min(0).max(3650).default(400),
  /** Pinned Ed25519 public key (ed25519:BASE64) that signs manifests; on the drill host. Defaults to this appliance's own key. */
  BACKUP_SIGNER_PUBLIC_KEY: z.string().regex(/^ed25519:[A-Za-z0-9+/]{43}=$/, 'must be ed25519:BASE64').optional(),
  /** Pinned Ed25519 public key (ed25519:BASE64) of the drill host, to trust its reports. */
  BACKUP_DRILL_PUBLIC_KEY: z.string().regex(/^ed25519:[A-Za-z0-9+/]{43}=$/, 'must be ed25519:BASE64').optional(),
  /** Physical base backups + WAL archiving (point-in-time restore). */
  BACKUP_WAL_ARCHIVING: z.enum(['on', 'off']).default('off'),
  /**
   * PostgreSQL's archive_timeout, in seconds: the longest a committed write waits in an
   * unfinished WAL segment before it is sealed and shipped. The RPO; at most 5 minutes.
   */
  BACKUP_WAL_ARCHIVE_TIMEOUT: z.coerce.number().int().min(1).max(300).default(300),
  /**
   * Where PostgreSQL's archive_command (provisioning/officine-wal-spool) drops WAL segments
   * for `appliance wal ship` (default: DATA_DIR/wal-spool; install.sh: /var/lib/officine-wal-spool).
   */
  BACKUP_WAL_SPOOL_DIR: z.string().min(1).optional(),
  /** Alert when the oldest spooled WAL segment waits longer than this (seconds): the RPO is slipping. */
  BACKUP_WAL_SPOOL_MAX_AGE_S: z.coerce.number().int().min(30).default(600),
  /** Where pg_dump, pg_restore, pg_basebackup live (Debian: /usr/bin). */
  PG_BIN_DIR: z.string().min(1).default('/usr/bin'),
  /** Where the age and zstd CLIs live. */
  BACKUP_TOOLS_DIR: z.string().min(1).default('/usr/bin'),

  /** S3-compatible object storage (Scaleway by default). */
  S3_ENDPOINT: z.url().default('https://s3.fr-par.scw.cloud'),
  S3_REGION: z.string().min(1).default('fr-par'),
  S3_BUCKET: z.string().min(3).optional(),
  S3_PREFIX: z.string().default('officine/'),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  /** Secret file (0600) holding the S3 secret key, relative to SECRETS_DIR unless absolute. */
  S3_SECRET_KEY_FILE: z.string().min(1).default('s3-secret-access-key'),
  S3_FORCE_PATH_STYLE: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  /** Whether every request carries a checksum (when_supported) or only those that require one. */
  S3_CHECKSUMS: z.enum(['when_supported', 'when_required']).default('when_supported'),

  /** The groupement's NAS: over SFTP (pinned host key) or a mount point. */
  NAS_MODE: z.enum(['sftp', 'mount']).default('sftp'),
  NAS_MOUNT_PATH: z.string().min(1).optional(),
  NAS_SFTP_HOST: z.string().min(1).optional(),
  NAS_SFTP_PORT: z.coerce.number().int().min(1).max(65535).default(22),
  NAS_SFTP_USER: z.string().min(1).default('officine'),
  /** Pinned host key fingerprint as `ssh-keygen -lf` prints it (SHA256:…). */
  NAS_SFTP_HOST_KEY: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'must be SHA256:… (ssh-keygen -lf)').optional(),
  /** Private key file (0600) for SFTP, relative to SECRETS_DIR unless absolute. */
  NAS_SFTP_KEY_FILE: z.string().min(1).default('nas-sftp-key'),
  NAS_SFTP_PATH: z.string().min(1).default('officine'),

  // Pharmacy data. BDPM_DIR: the public drug database files the demo imports (default: ../shared/data/bdpm
  // beside the install); DEMO_*: the size of the synthetic history `appliance demo` seeds for its pharmacies.
  BDPM_DIR: z.string().min(1).optional(),
  DEMO_MONTHS: z.coerce.number().int().min(0).max(36).default(12),
  DEMO_TICKETS_PER_DAY: z.coerce.number().int().min(1).max(1000).default(80),
  /** Agent channel: allowed clock skew of a message's timestamp. */
  AGENT_MAX_SKEW_SECONDS: z.coerce.number().int().min(10).max(86_400).default(300),
  /** Agent channel: key epoch lifetime; an agent's epoch rotates when it is older. */
  AGENT_EPOCH_HOURS: z.coerce.number().min(0.001).max(8_760).default(168),
  /** Agent channel: lifetime of a one-time enrolment code. */
  AGENT_ENROL_CODE_TTL_HOURS: z.coerce.number().min(0.01).max(720).default(24),
  /** Agent channel: largest sealed message accepted. */
  AGENT_MAX_MESSAGE_KB: z.coerce.number().int().min(16).max(262_144).default(32_768),

  // --- Operations (issue 7): metrics, TLS watch, read-only switch, alerting ---
  /** Prometheus endpoint, always bound to 127.0.0.1 (0 = any free port). */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  /** Certificate to watch for expiry; default: the one served at PUBLIC_URL when it is https. */
  TLS_CERT_FILE: z.string().min(1).optional(),
  /** Retry-After (seconds) sent with the 503 of the read-only switch. */
  READ_ONLY_RETRY_AFTER_S: z.coerce.number().int().min(1).max(86400).default(300),
  /** How often `appliance serve` evaluates the alert rules (0 = never, e.g. when the scheduler does it). */
  ALERT_CHECK_INTERVAL_S: z.coerce.number().int().min(0).max(86400).default(60),
  /** Recipients of alert emails (comma-separated); none = no email. */
  ALERT_EMAIL_TO: csv.default([]),
  /** Webhook URLs receiving alerts (comma-separated); each host must be in ALERT_WEBHOOK_ALLOWED_HOSTS. */
  ALERT_WEBHOOK_URLS: csv.default([]),
  /** The only hosts webhooks may reach (exact names, or `*.domain` for subdomains). */
  ALERT_WEBHOOK_ALLOWED_HOSTS: csv.default([]),
  // --- Releases and upgrades (appliance/src/upgrade) ---
  /** Holds releases/<version>/ and the `current` symlink (install.sh creates it). */
  INSTALL_DIR: z.string().min(1).default('/opt/officine'),
  /** Pinned Ed25519 release keys (JSON key list); a bundle signed by any other key is refused. */
  RELEASE_KEYS_FILE: z.string().min(1).default('/etc/officine/release-keys.json'),
  UPGRADE_MAX_BUNDLE_MB: z.coerce.number().int().min(1).max(8192).default(512),
  UPGRADE_MAX_UNPACKED_MB: z.coerce.number().int().min(1).max(16384).default(2048),
  UPGRADE_MAX_FILES: z.coerce.number().int().min(1).max(1_000_000).default(100_000),
  /** How long the health gate waits for /readyz after the switch before rolling back. */
  UPGRADE_HEALTH_TIMEOUT_S: z.coerce.number().int().min(5).max(600).default(60),
  /** How services are stopped/started around an upgrade: systemd units, or commands (Docker, no-systemd hosts). */
  SERVICE_MANAGER: z.enum(['systemd', 'command']).default('systemd'),
  SERVICE_STOP_COMMAND: z.string().min(1).optional(),
  SERVICE_START_COMMAND: z.string().min(1).optional(),

  // --- Data protection (appliance/src/gdpr, appliance/src/invoices, logging) ---
  /** Days between an erasure request (account disabled at once) and the purge of personal data; under 30 (GDPR: without undue delay, at most a month). */
  GDPR_ERASURE_DELAY_DAYS: z.coerce.number().int().min(0).max(29).default(7),
  /** Accounts inactive this long are purged (super-admins excepted: operators are managed from the console). */
  GDPR_INACTIVITY_MONTHS: z.coerce.number().int().min(1).max(120).default(24),
  /** Warning email this many days before the inactivity purge. */
  GDPR_INACTIVITY_WARNING_DAYS: z.coerce.number().int().min(1).max(180).default(30),
  /** Where archived invoice source files live (content-addressed). Default DATA_DIR/invoice-archive. */
  INVOICE_ARCHIVE_DIR: z.string().min(1).optional(),
  /** Directory for daily JSON log files (appliance-YYYY-MM-DD.log). Unset: logs go to stdout (journald applies its own retention, see INSTALL.md). */
  LOG_DIR: z.string().min(1).optional(),
  /** Days a daily log file is kept (the logs.retention job deletes older ones). */
  LOG_RETENTION_DAYS: z.coerce.number().int().min(1).max(365).default(30),
});

export type RawConfig = z.infer<typeof configSchema>;
