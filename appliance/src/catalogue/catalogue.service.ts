import type { DataSource } from 'typeorm';
import { parseBdpmDirectory, type BdpmCatalogue } from './bdpm.parser.js';
import { CatalogueRepository } from './catalogue.repository.js';

/** Outcome of a catalogue import, for the console and the logs. */
export interface CatalogueImportResult {
  products: number;
  changed: number;
  genericGroups: number;
  rejected: BdpmCatalogue['rejected'];
  cip7KeyMismatches: number;
}

/** Imports the public drug database (BDPM) into the shared product catalogue, in one transaction. */
export class CatalogueService {
  constructor(private readonly db: DataSource) {}

  /** Parses `dir` and upserts groups then products; re-importing the same files changes nothing. */
  async importBdpm(dir: string): Promise<CatalogueImportResult> {
    const cat = parseBdpmDirectory(dir);
    const changed = await this.db.transaction(async (em) => {
      const repo = new CatalogueRepository(em);
      await repo.upsertGroups(cat.groups);
      return repo.upsertProducts(cat.products);
    });
    return {
      products: cat.products.length,
      changed,
      genericGroups: cat.groups.length,
      rejected: cat.rejected,
      cip7KeyMismatches: cat.cip7KeyMismatches,
    };
  }

  /** True when the catalogue already holds products (the demo imports only once). */
  async hasProducts(): Promise<boolean> {
    return (await new CatalogueRepository(this.db.manager).countProducts()) > 0;
  }
}
