import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Data protection: GDPR columns on users (last login, inactivity warning, erasure,
 * email opt-out); audit log rows of chain version 2, whose hash covers a hash of
 * the actor, target and IP so those plain values can be nulled by an erasure
 * without breaking the chain (the trigger allows exactly that update and nothing
 * else); the processing register and sub-processors as data; the supplier
 * invoice archive (hash chain per pharmacy, dated retention parameters, legal
 * holds, no deletion before the end of retention).
 */
export class DataProtection1763780000000 implements MigrationInterface {
  name = 'DataProtection1763780000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE users
        ADD COLUMN last_login_at         timestamptz,
        ADD COLUMN inactivity_warned_at  timestamptz,
        ADD COLUMN erasure_requested_at  timestamptz,
        ADD COLUMN erased_at             timestamptz,
        ADD COLUMN email_opt_out         boolean NOT NULL DEFAULT false`);
    await q.query(`CREATE INDEX users_erasure_idx ON users (erasure_requested_at) WHERE erasure_requested_at IS NOT NULL AND erased_at IS NULL`);

    // --- Audit log, chain version 2 (pseudonymisable) ---
    await q.query(`
      ALTER TABLE audit_log
        ADD COLUMN chain_version smallint NOT NULL DEFAULT 1 CHECK (chain_version IN (1, 2)),
        ADD COLUMN actor_ref  text,
        ADD COLUMN target_ref text,
        ADD COLUMN ip_ref     text`);
    await q.query(`ALTER TABLE audit_log ALTER COLUMN chain_version SET DEFAULT 2`);
    await q.query(`CREATE INDEX audit_log_actor_ref_idx ON audit_log (actor_ref) WHERE actor_ref IS NOT NULL`);
    await q.query(`CREATE INDEX audit_log_actor_idx ON audit_log (actor_user_id) WHERE actor_user_id IS NOT NULL`);
    // Append-only, except the pseudonymisation of a version-2 row: the plain actor,
    // target and IP may be set to NULL (their hashes, which the chain covers, stay).
    await q.query(`
      CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'UPDATE' AND OLD.chain_version = 2
          AND (NEW.id, NEW.created_at, NEW.action, NEW.level, NEW.actor_role, NEW.pharmacy_id, NEW.target_type,
               NEW.request_id, NEW.details, NEW.prev_hash, NEW.hash, NEW.chain_version, NEW.actor_ref, NEW.target_ref, NEW.ip_ref)
              IS NOT DISTINCT FROM
              (OLD.id, OLD.created_at, OLD.action, OLD.level, OLD.actor_role, OLD.pharmacy_id, OLD.target_type,
               OLD.request_id, OLD.details, OLD.prev_hash, OLD.hash, OLD.chain_version, OLD.actor_ref, OLD.target_ref, OLD.ip_ref)
          AND (NEW.actor_user_id IS NULL OR NEW.actor_user_id = OLD.actor_user_id)
          AND (NEW.target_id IS NULL OR NEW.target_id = OLD.target_id)
          AND (NEW.ip IS NULL OR NEW.ip = OLD.ip)
        THEN
          RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);

    // --- Processing register and sub-processors ---
    await q.query(`
      CREATE TABLE processing_activities (
        id                 text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9_]{1,60}$'),
        name               text NOT NULL,
        purpose            text NOT NULL,
        legal_basis        text NOT NULL,
        data_subjects      text NOT NULL,
        data_categories    text NOT NULL,
        recipients         text NOT NULL,
        retention          text NOT NULL,
        security_measures  text NOT NULL,
        transfers_outside_eu text NOT NULL DEFAULT 'Aucun',
        updated_at         timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      INSERT INTO processing_activities (id, name, purpose, legal_basis, data_subjects, data_categories, recipients, retention, security_measures) VALUES
      ('accounts', 'Gestion des comptes utilisateurs', 'Authentifier les utilisateurs, gérer les droits par pharmacie, sécuriser l’accès (double authentification).',
       'Exécution du contrat (art. 6.1.b RGPD) et intérêt légitime à sécuriser le service (art. 6.1.f)',
       'Titulaires, collaborateurs des pharmacies, administrateurs du groupement, exploitants', 'Adresse e-mail, nom affiché, rôle, pharmacie, empreinte du mot de passe, secret TOTP chiffré, sessions (adresse IP, navigateur), dates de connexion',
       'Administrateurs de la pharmacie et du groupement, exploitant de l’appliance', 'Durée du compte ; suppression après 24 mois d’inactivité (avertissement 30 jours avant) ; effacement sur demande sous 30 jours',
       'Mots de passe argon2id, secrets chiffrés AES-256-GCM, TLS, journal d’audit chaîné, sauvegardes chiffrées (age)'),
      ('audit', 'Journal d’audit de sécurité', 'Tracer les actions sensibles et détecter les abus (connexions, exports, accès d’urgence).',
       'Intérêt légitime à assurer la sécurité du service (art. 6.1.f) ; obligation de sécurité (art. 32)',
       'Utilisateurs de l’appliance', 'Identifiant pseudonyme de l’utilisateur, rôle, action, date, adresse IP',
       'Exploitant de l’appliance, titulaire de la pharmacie concernée', 'Conservé avec la chaîne d’intégrité ; après effacement d’un compte, l’utilisateur n’y figure plus que sous forme d’empreinte',
       'Journal en ajout seul, chaîné par empreintes SHA-256, vérifiable par « appliance audit verify »'),
      ('commercial_analytics', 'Tableaux de bord commerciaux', 'Calculer marges, ventes, achats et stocks de chaque pharmacie ; benchmarks consentis du groupement.',
       'Exécution du contrat (art. 6.1.b RGPD)', 'Aucune personne concernée : données commerciales uniquement, jamais de donnée patient ni prescripteur',
       'Ventes, achats, factures fournisseurs, stocks (sans donnée personnelle)', 'Pharmacie concernée ; groupement sous forme agrégée avec son accord',
       'Durée d’adhésion de la pharmacie', 'Isolation par pharmacie, chiffrement des sauvegardes, liste blanche côté agent'),
      ('invoice_archive', 'Archivage des factures fournisseurs', 'Conserver les factures d’achat et leurs fichiers sources pour les obligations comptables et fiscales.',
       'Obligation légale (art. 6.1.c RGPD) : Code de commerce art. L123-22 (10 ans), Livre des procédures fiscales art. L102 B (6 ans)',
       'Aucune personne concernée en principe (factures entre entreprises)', 'Factures fournisseurs et fichiers sources',
       'Pharmacie concernée ; administration fiscale sur demande', '10 ans (commercial) et 6 ans (fiscal), paramètres datés ; gel juridique possible',
       'Chaîne d’empreintes SHA-256, export vérifiable (sha256sum -c), suppression impossible avant la fin de conservation'),
      ('emails', 'Courriels de service', 'Envoyer les messages liés au compte (activation, réinitialisation, alertes de sécurité, avertissement d’inactivité).',
       'Exécution du contrat (art. 6.1.b) ; messages non essentiels : opposition possible à tout moment', 'Utilisateurs de l’appliance',
       'Adresse e-mail, nom affiché', 'Relais SMTP du groupement', 'Pas de copie conservée par l’appliance', 'TLS vers le relais SMTP ; adresses jamais écrites en clair dans les journaux'),
      ('logs', 'Journaux techniques', 'Diagnostiquer les incidents et assurer la sécurité.', 'Intérêt légitime (art. 6.1.f RGPD)', 'Utilisateurs de l’appliance',
       'Identifiants pseudonymes, adresses e-mail sous forme d’empreinte, adresses IP', 'Exploitant de l’appliance', 'Rotation quotidienne, conservation limitée (LOG_RETENTION_DAYS, 30 jours par défaut)',
       'Minimisation : e-mails hachés, secrets masqués, aucune donnée personnelle dans les URL')`);
    await q.query(`
      CREATE TABLE sub_processors (
        id               text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9_]{1,60}$'),
        name             text NOT NULL,
        service          text NOT NULL,
        data_location    text NOT NULL,
        data_categories  text NOT NULL,
        safeguards       text NOT NULL,
        updated_at       timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      INSERT INTO sub_processors (id, name, service, data_location, data_categories, safeguards) VALUES
      ('scaleway', 'Scaleway SAS', 'Stockage objet des sauvegardes (API S3)', 'France (fr-par)', 'Sauvegardes chiffrées de la base (illisibles sans la clé du coffre)',
       'Chiffrement de bout en bout (age) avant envoi, chiffrement du bucket, versionnement, contrat de sous-traitance art. 28'),
      ('groupement_nas', 'Groupement (NAS central)', 'Copie des sauvegardes chiffrées', 'Datacenter du groupement (France)', 'Sauvegardes chiffrées',
       'Chiffrement age, SFTP avec clé d’hôte épinglée'),
      ('smtp_relay', 'Relais SMTP du groupement', 'Acheminement des courriels de service', 'Configuré par le groupement (SMTP_HOST)', 'Adresse e-mail et nom du destinataire, contenu du message',
       'TLS (STARTTLS ou TLS implicite), authentification')`);

    // --- Invoice archive ---
    await q.query(`ALTER TABLE pharmacies ADD COLUMN left_groupement_at timestamptz`);
    await q.query(`
      CREATE TABLE archive_retention_parameters (
        id               integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        basis            text NOT NULL CHECK (basis IN ('commercial', 'tax')),
        years            smallint NOT NULL CHECK (years BETWEEN 1 AND 50),
        valid_from       date NOT NULL,
        valid_to         date,
        legal_reference  text NOT NULL,
        UNIQUE (basis, valid_from),
        CHECK (valid_to IS NULL OR valid_to > valid_from)
      )`);
    await q.query(`
      INSERT INTO archive_retention_parameters (basis, years, valid_from, valid_to, legal_reference) VALUES
        ('commercial', 10, '1983-04-30', NULL, 'Code de commerce, art. L123-22 : documents comptables et pièces justificatives, 10 ans'),
        ('tax', 6, '1990-01-01', NULL, 'Livre des procédures fiscales, art. L102 B : 6 ans')`);
    await q.query(`
      CREATE TABLE invoice_archive (
        pharmacy_id         uuid NOT NULL REFERENCES pharmacies(id),
        seq                 bigint NOT NULL CHECK (seq >= 1),
        invoice_source_id   text NOT NULL,
        supplier_source_id  text NOT NULL,
        invoice_number      text NOT NULL,
        issued_on           date NOT NULL,
        file_name           text NOT NULL CHECK (file_name ~ '^[A-Za-z0-9._-]{1,120}$'),
        media_type          text NOT NULL,
        file_sha256         char(64) NOT NULL CHECK (file_sha256 ~ '^[0-9a-f]{64}$'),
        file_size           bigint NOT NULL CHECK (file_size >= 0),
        record_sha256       char(64) NOT NULL CHECK (record_sha256 ~ '^[0-9a-f]{64}$'),
        archived_at         timestamptz NOT NULL,
        retain_until        date NOT NULL,
        retention           jsonb NOT NULL,
        prev_hash           char(64) NOT NULL,
        hash                char(64) NOT NULL UNIQUE,
        purged_at           timestamptz,
        PRIMARY KEY (pharmacy_id, seq),
        FOREIGN KEY (pharmacy_id, invoice_source_id) REFERENCES supplier_invoices (pharmacy_id, source_id)
      )`);
    await q.query(`CREATE INDEX invoice_archive_issued_idx ON invoice_archive (pharmacy_id, issued_on)`);
    await q.query(`CREATE INDEX invoice_archive_invoice_idx ON invoice_archive (pharmacy_id, invoice_source_id)`);
    await q.query(`
      CREATE TABLE legal_holds (
        id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        pharmacy_id  uuid NOT NULL REFERENCES pharmacies(id),
        reason       text NOT NULL CHECK (length(reason) BETWEEN 10 AND 2000),
        covers_from  date,
        covers_to    date,
        placed_by    uuid REFERENCES users(id),
        placed_at    timestamptz NOT NULL,
        released_at  timestamptz,
        released_by  uuid REFERENCES users(id),
        CHECK (covers_to IS NULL OR covers_from IS NULL OR covers_to >= covers_from)
      )`);
    await q.query(`CREATE INDEX legal_holds_pharmacy_idx ON legal_holds (pharmacy_id) WHERE released_at IS NULL`);
    // Rows are never deleted; the only change is marking an entry purged (its files
    // removed), and only after its retention date and outside any active legal hold.
    await q.query(`
      CREATE FUNCTION invoice_archive_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'UPDATE' AND OLD.purged_at IS NULL AND NEW.purged_at IS NOT NULL
          AND (NEW.pharmacy_id, NEW.seq, NEW.invoice_source_id, NEW.supplier_source_id, NEW.invoice_number, NEW.issued_on, NEW.file_name,
               NEW.media_type, NEW.file_sha256, NEW.file_size, NEW.record_sha256, NEW.archived_at, NEW.retain_until, NEW.retention, NEW.prev_hash, NEW.hash)
              IS NOT DISTINCT FROM
              (OLD.pharmacy_id, OLD.seq, OLD.invoice_source_id, OLD.supplier_source_id, OLD.invoice_number, OLD.issued_on, OLD.file_name,
               OLD.media_type, OLD.file_sha256, OLD.file_size, OLD.record_sha256, OLD.archived_at, OLD.retain_until, OLD.retention, OLD.prev_hash, OLD.hash)
        THEN
          IF least(NEW.purged_at, now())::date <= OLD.retain_until THEN
            RAISE EXCEPTION 'invoice archive entry %/% is retained until %', OLD.pharmacy_id, OLD.seq, OLD.retain_until USING ERRCODE = 'insufficient_privilege';
          END IF;
          IF EXISTS (SELECT 1 FROM legal_holds h WHERE h.pharmacy_id = OLD.pharmacy_id AND h.released_at IS NULL
                     AND (h.covers_from IS NULL OR OLD.issued_on >= h.covers_from) AND (h.covers_to IS NULL OR OLD.issued_on <= h.covers_to)) THEN
            RAISE EXCEPTION 'invoice archive entry %/% is under legal hold', OLD.pharmacy_id, OLD.seq USING ERRCODE = 'insufficient_privilege';
          END IF;
          RETURN NEW;
        END IF;
        RAISE EXCEPTION 'invoice_archive rows are never changed or deleted (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`CREATE TRIGGER invoice_archive_no_change BEFORE UPDATE OR DELETE ON invoice_archive FOR EACH ROW EXECUTE FUNCTION invoice_archive_guard()`);
    await q.query(`CREATE TRIGGER invoice_archive_no_truncate BEFORE TRUNCATE ON invoice_archive FOR EACH STATEMENT EXECUTE FUNCTION invoice_archive_guard()`);
    // An archived invoice (not yet purged) cannot be deleted from the fact table either.
    await q.query(`
      CREATE FUNCTION supplier_invoice_archived_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM invoice_archive a WHERE a.pharmacy_id = OLD.pharmacy_id AND a.invoice_source_id = OLD.source_id AND a.purged_at IS NULL) THEN
          RAISE EXCEPTION 'supplier invoice %/% is archived and under retention', OLD.pharmacy_id, OLD.source_id USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN OLD;
      END $$`);
    await q.query(`CREATE TRIGGER supplier_invoices_archived BEFORE DELETE ON supplier_invoices FOR EACH ROW EXECUTE FUNCTION supplier_invoice_archived_guard()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER supplier_invoices_archived ON supplier_invoices`);
    await q.query(`DROP FUNCTION supplier_invoice_archived_guard()`);
    await q.query(`DROP TABLE legal_holds`);
    await q.query(`DROP TABLE invoice_archive`);
    await q.query(`DROP FUNCTION invoice_archive_guard()`);
    await q.query(`DROP TABLE archive_retention_parameters`);
    await q.query(`ALTER TABLE pharmacies DROP COLUMN left_groupement_at`);
    await q.query(`DROP TABLE sub_processors`);
    await q.query(`DROP TABLE processing_activities`);
    await q.query(`
      CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`DROP INDEX audit_log_actor_idx`);
    await q.query(`DROP INDEX audit_log_actor_ref_idx`);
    // Version-2 rows cannot be verified by the old code; the chain columns stay only as long as the rows do.
    await q.query(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change`);
    await q.query(`ALTER TABLE audit_log DROP COLUMN ip_ref, DROP COLUMN target_ref, DROP COLUMN actor_ref, DROP COLUMN chain_version`);
    await q.query(`ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change`);
    await q.query(`DROP INDEX users_erasure_idx`);
    await q.query(`
      ALTER TABLE users
        DROP COLUMN email_opt_out, DROP COLUMN erased_at, DROP COLUMN erasure_requested_at,
        DROP COLUMN inactivity_warned_at, DROP COLUMN last_login_at`);
  }
}
