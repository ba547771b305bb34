import { createInterface, type Interface } from 'node:readline/promises';
import type { ReadOnlyState } from '../read-only/read-only.repository.js';

/** What the console needs from the rest of the appliance (real services, or fakes in tests). */
export interface ConsoleActions {
  /** Short header lines: web address, version, health summary. */
  header(): Promise<string[]>;
  /** The full status, rendered in French. */
  status(): Promise<string>;
  readOnly(): Promise<ReadOnlyState>;
  enableReadOnly(reason: string): Promise<void>;
  disableReadOnly(): Promise<void>;
  /** Sends a test alert through every channel; returns a French summary. */
  testAlerts(): Promise<string>;
  /** Runs the nightly backup job now (journaled, never overlapping); French summary. */
  backupNow(): Promise<string>;
  /** The latest backups from the journal; French. */
  listBackups(): Promise<string>;
  /** The accounts, rendered in French. */
  users(): Promise<string>;
  /** Verifies the audit hash chain; French summary. */
  verifyAudit(): Promise<string>;
  /** Recent log lines, or a French explanation why there are none. */
  logs(): Promise<string>;
  /** Installed version, bundles staged from the admin page, recent upgrade steps. */
  upgradeOverview(): Promise<{ text: string; staged: string[] }>;
  /** Verifies a bundle (installs nothing): its version, or the French refusal. */
  verifyUpgrade(bundle: string): Promise<{ ok: true; version: string; text: string } | { ok: false; text: string }>;
  /** Applies a bundle (backup, migration, switch, automatic rollback); French outcome. */
  applyUpgrade(bundle: string): Promise<string>;
}

interface Entry {
  label: string;
  run: () => Promise<void>;
}

/**
 * The machine console (`appliance console`), in the manner of TrueNAS's: a numbered
 * menu on a plain TTY (node:readline), the web address and health on top, and a
 * typed « oui » before anything that changes the appliance.
 */
export class ConsoleMenu {
  private rl: Interface;
  private closed = false;
  /** Lines typed ahead of a prompt (kept, not lost while the screen redraws). */
  private typed: string[] = [];
  private waiting: ((line: string | null) => void) | undefined;

  constructor(
    private readonly actions: ConsoleActions,
    private readonly input: NodeJS.ReadableStream = process.stdin,
    private readonly output: NodeJS.WritableStream = process.stdout,
  ) {
    this.rl = createInterface({ input, output, terminal: (output as { isTTY?: boolean }).isTTY === true });
    this.rl.on('line', (line) => {
      const w = this.waiting;
      this.waiting = undefined;
      if (w) w(line);
      else this.typed.push(line);
    });
    this.rl.on('close', () => {
      this.closed = true;
      this.waiting?.(null);
      this.waiting = undefined;
    });
  }

  private print(text = ''): void {
    this.output.write(text + '\n');
  }

  /** Prompts and resolves with the next line (trimmed), or null once input is closed (Ctrl-D). */
  private async ask(prompt: string): Promise<string | null> {
    this.rl.setPrompt(prompt);
    this.rl.prompt();
    const early = this.typed.shift();
    if (early !== undefined) return early.trim();
    if (this.closed) return null;
    const line = await new Promise<string | null>((resolve) => (this.waiting = resolve));
    return line === null ? null : line.trim();
  }

  /** Asks for an explicit « oui »; anything else cancels. */
  private async confirm(question: string): Promise<boolean> {
    const answer = await this.ask(`${question} Tapez « oui » pour confirmer : `);
    const ok = answer?.toLowerCase() === 'oui';
    if (!ok) this.print('Annulé : rien n’a été modifié.');
    return ok;
  }

  private async entries(): Promise<Entry[]> {
    const ro = await this.actions.readOnly().catch(() => null);
    return [
      { label: 'État détaillé', run: async () => this.print(await this.actions.status()) },
      ro?.enabled
        ? {
            label: 'Désactiver le mode lecture seule',
            run: async () => {
              this.print(`Lecture seule active depuis ${ro.since ?? '?'} (${ro.by ?? '?'}) : ${ro.reason ?? ''}`);
              if (!(await this.confirm('Rétablir les modifications (fin du mode lecture seule) ?'))) return;
              await this.actions.disableReadOnly();
              this.print('Mode lecture seule DÉSACTIVÉ : les modifications sont de nouveau acceptées.');
            },
          }
        : {
            label: 'Activer le mode lecture seule',
            run: async () => {
              const reason = await this.ask('Raison (obligatoire, consignée dans le journal d’audit) : ');
              if (!reason || reason.length < 3) {
                this.print('Annulé : une raison d’au moins 3 caractères est obligatoire.');
                return;
              }
              if (!(await this.confirm('Suspendre toutes les modifications (lecture seule) ?'))) return;
              await this.actions.enableReadOnly(reason);
              this.print('Mode lecture seule ACTIVÉ : les écritures reçoivent 503, la consultation continue.');
            },
          },
      {
        label: 'Sauvegarder maintenant',
        run: async () => {
          if (!(await this.confirm('Lancer une sauvegarde complète maintenant (plusieurs minutes, charge la base) ?'))) return;
          this.print('Sauvegarde en cours…');
          this.print(await this.actions.backupNow());
        },
      },
      { label: 'Lister les sauvegardes', run: async () => this.print(await this.actions.listBackups()) },
      { label: 'Utilisateurs', run: async () => this.print(await this.actions.users()) },
      { label: 'Vérifier le journal d’audit', run: async () => this.print(await this.actions.verifyAudit()) },
      { label: 'Journaux', run: async () => this.print(await this.actions.logs()) },
      { label: 'Mise à jour', run: () => this.upgrade() },
      { label: 'Envoyer une alerte de test', run: async () => this.print(await this.actions.testAlerts()) },
    ];
  }

  /** Shows the version and history, then verifies and (after « oui ») applies a bundle. */
  private async upgrade(): Promise<void> {
    const overview = await this.actions.upgradeOverview();
    this.print(overview.text);
    this.print();
    const answer = await this.ask(
      overview.staged.length
        ? 'Archive à appliquer (numéro ci-dessus ou chemin ; Entrée pour revenir) : '
        : 'Chemin de l’archive à appliquer (Entrée pour revenir) : ',
    );
    if (!answer) return;
    const bundle = /^\d+$/.test(answer) ? overview.staged[Number(answer) - 1] : answer;
    if (!bundle) {
      this.print(`Aucune archive numéro ${answer}.`);
      return;
    }
    this.print(`Vérification de ${bundle}…`);
    const verdict = await this.actions.verifyUpgrade(bundle);
    this.print(verdict.text);
    if (!verdict.ok) return;
    if (!(await this.confirm(`Passer à la version ${verdict.version} ? Les services seront arrêtés puis redémarrés (sauvegarde préalable, retour automatique en cas d’échec).`))) return;
    this.print('Mise à jour en cours…');
    this.print(await this.actions.applyUpgrade(bundle));
  }

  /** Runs the menu until « 0 », Ctrl-D or Ctrl-C. */
  async run(): Promise<void> {
    this.rl.on('SIGINT', () => this.rl.close());
    try {
      while (!this.closed) {
        if ((this.output as { isTTY?: boolean }).isTTY) this.output.write('\x1b[2J\x1b[H');
        for (const line of await this.actions.header().catch((err: Error) => [`État indisponible : ${err.message}`])) this.print(line);
        this.print();
        const entries = await this.entries();
        entries.forEach((e, i) => this.print(`  ${String(i + 1).padStart(2)}) ${e.label}`));
        this.print('   0) Quitter');
        this.print();
        const choice = await this.ask('Votre choix : ');
        if (choice === null || choice === '0') break;
        const entry = entries[Number(choice) - 1];
        if (!/^\d+$/.test(choice) || !entry) {
          this.print(`Choix inconnu : « ${choice} ».`);
        } else {
          try {
            await entry.run();
          } catch (err) {
            this.print(`Erreur : ${(err as Error).message}`);
          }
        }
        if ((await this.ask('\nAppuyez sur Entrée pour revenir au menu…')) === null) break;
      }
    } finally {
      this.rl.close();
      this.print('\nAu revoir.');
    }
  }
}
