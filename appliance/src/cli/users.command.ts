import { hostname, userInfo } from 'node:os';
import type { Command } from 'commander';
import QRCode from 'qrcode';
import { AuthService } from '../auth/auth.service.js';
import { UserAdminService, type Actor } from '../auth/user-admin.service.js';
import { ROLES, type Role } from '../auth/user.entity.js';
import { AppError } from '../http/errors.js';
import { cliLogger, fail, loadConfigOrExit, openRuntime, type GlobalOptions, type Runtime } from './bootstrap.js';

/** The local console as an audit actor: the OS account and host, never a web session. */
export function consoleActor(extra: Record<string, unknown> = {}): Actor {
  let osUser = 'unknown';
  try {
    osUser = userInfo().username;
  } catch {
    /* no passwd entry (containers) */
  }
  return { actorUserId: null, actorRole: 'console', ip: null, requestId: null, details: { via: 'console', osUser, host: hostname(), ...extra } };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/**
 * Runs an action with a migrated runtime (shared by the console commands). A refusal (AppError 4xx) prints its French
 * message and exits 1; anything else is logged and exits 1 through `fail`. The exit
 * is explicit: the console's exit status is part of its contract with scripts.
 */
export async function withRuntime(program: Command, fn: (rt: Runtime) => Promise<void>): Promise<void> {
  const config = loadConfigOrExit(program.opts<GlobalOptions>());
  const logger = cliLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
  let rt: Runtime | undefined;
  let refused = false;
  try {
    rt = await openRuntime(config, logger);
    await fn(rt);
  } catch (err) {
    if (!(err instanceof AppError && err.status < 500)) {
      await rt?.close();
      fail(logger, err, 'la commande a échoué');
    }
    process.stderr.write(`Erreur : ${err.userMessage}\n`);
    refused = true;
  }
  await rt?.close();
  process.exit(refused ? 1 : 0);
}

async function resolveUserId(rt: Runtime, emailOrId: string): Promise<string> {
  const rows = (await rt.app.db.query(`SELECT id FROM users WHERE email = $1 OR id::text = $1`, [emailOrId.trim().toLowerCase()])) as { id: string }[];
  if (!rows[0]) throw new AppError(404, 'user_not_found', `Aucun compte « ${emailOrId} ».`);
  return rows[0].id;
}

export async function resolvePharmacy(rt: Runtime, ref: string): Promise<string> {
  const rows = (await rt.app.db.query(`SELECT id FROM pharmacies WHERE finess = $1 OR id::text = $1`, [ref.trim()])) as { id: string }[];
  if (!rows[0]) throw new AppError(404, 'pharmacy_not_found', `Aucune pharmacie « ${ref} » (FINESS ou identifiant).`);
  return rows[0].id;
}

/**
 * Enrols TOTP for a just-created account through the same service as the web enrolment
 * (seed sealed with the data key) and prints, once, what the owner needs: a terminal QR
 * code, the otpauth URI and the recovery codes. Only stdout: never a log line.
 */
async function printConsoleTotpEnrolment(rt: Runtime, u: { id: string; email: string; role: Role; pharmacyId: string | null }): Promise<void> {
  const e = await new AuthService(rt.app).enrolTotpAtConsole({ ...u, totpEnabled: false }, consoleActor());
  const qr = await QRCode.toString(e.otpauthUrl, { type: 'terminal', small: true });
  process.stdout.write(
    [
      '',
      'Double authentification (TOTP) — affichée UNE SEULE FOIS :',
      'scannez ce QR code avec l’application d’authentification (ou saisissez l’URI ci-dessous).',
      qr,
      `URI : ${e.otpauthUrl}`,
      '',
      'Codes de secours (chacun utilisable une seule fois ; à conserver hors ligne, pas sur ce serveur) :',
      ...e.recoveryCodes.map((c) => `  ${c}`),
      '',
      'La double authentification est active dès maintenant : la première connexion demande un code',
      'de l’application (ou un code de secours), ce qui confirme l’enrôlement ; le mot de passe seul',
      'ne donne accès à rien.',
      '',
    ].join('\n'),
  );
}

/** `appliance users create|list|disable|reset-totp`: account administration from the local console. */
export function registerUsersCommand(program: Command): void {
  const users = program.command('users').description('Manage accounts (local console).');

  users
    .command('create')
    .description('Create an account. Pending until the owner verifies the email, unless --activate.')
    .requiredOption('--email <email>', 'login email')
    .requiredOption('--name <displayName>', 'display name')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--pharmacy <finessOrId>', 'pharmacy (user, pharmacy_admin)')
    .option('--groupement <nameOrId>', 'groupement (group_admin)')
    .option('--password-stdin', 'read the initial password from standard input (otherwise the owner sets it from the email link)')
    .option('--activate', 'the operator vouches for the address: no verification email (audited)')
    .option(
      '--enrol-totp',
      'enrol TOTP now and print, once, the otpauth URI, a QR code and the 10 recovery codes; active at once: the first login must give a code (its confirmation)',
    )
    .action(async (o: { email: string; name: string; role: string; pharmacy?: string; groupement?: string; passwordStdin?: boolean; activate?: boolean; enrolTotp?: boolean }) => {
      await withRuntime(program, async (rt) => {
        if (!(ROLES as readonly string[]).includes(o.role)) throw new AppError(422, 'bad_role', `Rôle inconnu « ${o.role} » (${ROLES.join(', ')}).`);
        const role = o.role as Role;
        const pharmacyId = o.pharmacy ? await resolvePharmacy(rt, o.pharmacy) : null;
        if ((role === 'user' || role === 'pharmacy_admin') && !pharmacyId) throw new AppError(422, 'pharmacy_required', 'Ce rôle exige --pharmacy.');
        let groupementId: string | null = null;
        if (o.groupement) {
          const g = (await rt.app.db.query(`SELECT id FROM groupements WHERE name = $1 OR id::text = $1`, [o.groupement])) as { id: string }[];
          if (!g[0]) throw new AppError(404, 'groupement_not_found', `Groupement « ${o.groupement} » introuvable.`);
          groupementId = g[0].id;
        }
        if (role === 'group_admin' && !groupementId) throw new AppError(422, 'groupement_required', 'Ce rôle exige --groupement.');
        const password = o.passwordStdin ? await readStdin() : undefined;
        const u = await new UserAdminService(rt.app).create(
          { email: o.email, displayName: o.name, role, pharmacyId, groupementId, ...(password !== undefined ? { password } : {}), activate: !!o.activate },
          consoleActor(),
        );
        process.stdout.write(
          `Compte créé : ${u.email} (${u.role}), identifiant ${u.id}, statut ${u.status === 'active' ? 'actif' : 'en attente de vérification de l’e-mail'}.\n`,
        );
        if (o.enrolTotp) await printConsoleTotpEnrolment(rt, u);
      });
    });

  users
    .command('list')
    .description('List accounts.')
    .option('--pharmacy <finessOrId>', 'only this pharmacy')
    .option('--json', 'machine-readable output')
    .action(async (o: { pharmacy?: string; json?: boolean }) => {
      await withRuntime(program, async (rt) => {
        const pharmacyId = o.pharmacy ? await resolvePharmacy(rt, o.pharmacy) : undefined;
        const list = await new UserAdminService(rt.app).list(pharmacyId ? { pharmacyId } : {});
        if (o.json) {
          process.stdout.write(JSON.stringify(list) + '\n');
          return;
        }
        if (!list.length) process.stdout.write('Aucun compte.\n');
        for (const u of list) {
          process.stdout.write(`${u.email.padEnd(40)} ${u.role.padEnd(15)} ${u.status.padEnd(9)} TOTP:${u.totpEnabled ? 'oui' : 'non'}  ${u.id}\n`);
        }
      });
    });

  users
    .command('disable <emailOrId>')
    .description('Disable an account and end all its sessions.')
    .action(async (who: string) => {
      await withRuntime(program, async (rt) => {
        const id = await resolveUserId(rt, who);
        const changed = await new UserAdminService(rt.app).disable(id, consoleActor());
        process.stdout.write(changed ? `Compte ${who} désactivé ; ses sessions sont fermées.\n` : `Le compte ${who} était déjà désactivé.\n`);
      });
    });

  users
    .command('reset-totp <emailOrId>')
    .description('Remove TOTP (lost phone). Local console only; audited; the user must enrol again.')
    .requiredOption('--reason <text>', 'why (kept in the audit log)')
    .action(async (who: string, o: { reason: string }) => {
      await withRuntime(program, async (rt) => {
        if (o.reason.trim().length < 10) throw new AppError(422, 'reason_required', 'Indiquez un motif d’au moins 10 caractères (--reason).');
        const id = await resolveUserId(rt, who);
        await new UserAdminService(rt.app).resetTotp(id, consoleActor({ reason: o.reason.trim() }));
        process.stdout.write(`Double authentification supprimée pour ${who}. Ses sessions sont fermées ; il devra la réactiver à la prochaine connexion.\n`);
      });
    });
}
