import type { AppContext } from '../http/app-context.js';
import { GdprRepository, type ProcessingActivity, type SubProcessor } from './gdpr.repository.js';

/** The processing register (registre des traitements, art. 30 GDPR) and the sub-processor list. */
export interface ProcessingRegister {
  generatedAt: string;
  activities: ProcessingActivity[];
  subProcessors: SubProcessor[];
}

const cell = (v: unknown) => {
  const s = v instanceof Date ? v.toISOString() : String(v ?? '');
  return /[",\n\r;]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** Reads the register (kept as data, seeded by migration) and renders its CSV export. */
export class RegisterService {
  constructor(private readonly app: AppContext) {}

  async get(): Promise<ProcessingRegister> {
    const repo = new GdprRepository(this.app.db.manager);
    return { generatedAt: this.app.clock.now().toISOString(), activities: await repo.activities(), subProcessors: await repo.subProcessors() };
  }

  /** Two tables in one CSV, one after the other, each with its French header. */
  static toCsv(r: ProcessingRegister): string {
    const a = [
      ['Traitement', 'Finalité', 'Base légale', 'Personnes concernées', 'Catégories de données', 'Destinataires', 'Durée de conservation', 'Mesures de sécurité', 'Transferts hors UE'],
      ...r.activities.map((x) => [x.name, x.purpose, x.legalBasis, x.dataSubjects, x.dataCategories, x.recipients, x.retention, x.securityMeasures, x.transfersOutsideEu]),
    ];
    const s = [
      ['Sous-traitant', 'Service', 'Localisation des données', 'Données', 'Garanties'],
      ...r.subProcessors.map((x) => [x.name, x.service, x.dataLocation, x.dataCategories, x.safeguards]),
    ];
    return '\uFEFF' + [...a, [], ...s].map((row) => row.map(cell).join(',')).join('\r\n') + '\r\n';
  }
}
