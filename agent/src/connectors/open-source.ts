import type { Profile } from '../model/profile.js';
import type { SourceConfig, SourceConnector } from './connector.js';
import { CsvConnector } from './csv.connector.js';

/** Opens the configured LGO source; each driver is imported only when its kind is used. */
export async function openSource(source: SourceConfig, profile: Profile, roots: readonly string[]): Promise<SourceConnector> {
  switch (source.kind) {
    case 'sqlite': {
      const { SqliteConnector } = await import('./sqlite.connector.js');
      return SqliteConnector.open(source.path, roots);
    }
    case 'postgres': {
      const { PostgresConnector } = await import('./postgres.connector.js');
      return PostgresConnector.open(source.url);
    }
    case 'csv':
      return new CsvConnector(source.dir, roots, profile.csv.delimiter, profile.csv.encoding);
  }
}
