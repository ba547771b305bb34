import type { DataSource } from 'typeorm';
import { hashPassword } from '../auth/password.js';
import type { SecretStore } from '../config/secrets.js';

export const DEMO_GROUPEMENT = 'Groupement Démo Officines';

/** Demo pharmacies: plausible names and FINESS numbers (format-valid, not real establishments). */
export const DEMO_PHARMACIES = [
  { name: 'Pharmacie du Marché', finess: '690000011', address: '12 place du Marché, 69001 Lyon' },
  { name: 'Pharmacie des Tilleuls', finess: '690000029', address: '4 avenue des Tilleuls, 69100 Villeurbanne' },
  { name: 'Pharmacie de la Gare', finess: '380000037', address: '1 rue de la Gare, 38000 Grenoble' },
  { name: 'Pharmacie Saint-Jean', finess: '420000045', address: '27 rue Saint-Jean, 42000 Saint-Étienne' },
  { name: 'Pharmacie du Lac', finess: '740000053', address: '8 quai du Lac, 74000 Annecy' },
];

export const DEMO_USER_EMAIL = 'equipe@pharmacie-du-marche.demo';

export interface DemoLogin {
  email: string;
  password: string;
}

/**
 * Seeds the demo groupement, its pharmacies and a staff login. Idempotent: running
 * it again changes nothing. The demo password is random per installation, kept in
 * the secrets directory (0600) and printed by `npm start`.
 */
export async function seedDemo(db: DataSource, secrets: SecretStore): Promise<DemoLogin> {
  const password = secrets.get('demo-password', { generate: 12 }).toString('utf8').trim();
  const passwordHash = await hashPassword(password);
  await db.transaction(async (tx) => {
    const [g] = (await tx.query(
      `INSERT INTO groupements (name) VALUES ($1)
       ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id`,
      [DEMO_GROUPEMENT],
    )) as { id: string }[];
    for (const p of DEMO_PHARMACIES) {
      await tx.query(
        `INSERT INTO pharmacies (groupement_id, name, finess, address) VALUES ($1, $2, $3, $4)
         ON CONFLICT (finess) DO NOTHING`,
        [g!.id, p.name, p.finess, p.address],
      );
    }
    const [first] = (await tx.query(`SELECT id FROM pharmacies WHERE finess = $1`, [DEMO_PHARMACIES[0]!.finess])) as { id: string }[];
    await tx.query(
      `INSERT INTO users (email, display_name, password_hash, role, pharmacy_id, status)
       VALUES ($1, $2, $3, 'user', $4, 'active')
       ON CONFLICT (email) DO NOTHING`,
      [DEMO_USER_EMAIL, 'Équipe démo', passwordHash, first!.id],
    );
  });
  return { email: DEMO_USER_EMAIL, password };
}
