/**
 * Table and column names that point to patients, prescribers, insurance or
 * prescriptions. A profile naming any of them is refused at load, even when the
 * name is mapped onto an allowed canonical field: the agent never even reads such
 * a column. Matching is on a normalised form (lower case, accents stripped,
 * camelCase split), by substring for distinctive words and by whole token for
 * short ones (so `amc` refuses `code_amc` but not `pharmacie`).
 */
const SUBSTRINGS = [
  'patient', 'client', 'customer', 'assure', 'insured', 'insurance', 'ordonnance', 'prescri', 'mutuelle',
  'naissance', 'birth', 'adresse', 'address', 'telephone', 'phone', 'portable', 'mobile', 'email', 'courriel',
  'vitale', 'medecin', 'docteur', 'doctor', 'physician', 'praticien', 'beneficiaire', 'beneficiary', 'prenom',
  'firstname', 'lastname', 'surname', 'civilite', 'secu', 'ayantdroit', 'ayant_droit', 'tierspayant',
  'tiers_payant', 'allergie', 'pathologie', 'diagnostic', 'dossier',
];
const TOKENS = ['nir', 'amc', 'amo', 'rpps', 'adeli', 'tel', 'mail', 'dob', 'ssn', 'insee', 'sexe', 'gender', 'age', 'nom', 'name'];

function normalise(name: string): { joined: string; tokens: string[] } {
  const spaced = name.replace(/([a-z0-9])([A-Z])/g, '$1_$2');
  const plain = spaced.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
  const tokens = plain.split(/[^a-z0-9]+/).filter(Boolean);
  return { joined: plain, tokens };
}

/**
 * Returns the denied word a name contains, or undefined when the name is clean.
 * `nom`/`name` alone are refused (a bare "name" is a person's), but qualified
 * names like `nom_fournisseur` / `supplier_name` are fine.
 */
export function deniedWord(name: string): string | undefined {
  const { joined, tokens } = normalise(name);
  for (const s of SUBSTRINGS) if (joined.includes(s)) return s;
  for (const t of TOKENS) {
    if (!tokens.includes(t)) continue;
    if ((t === 'nom' || t === 'name') && tokens.length > 1) continue;
    return t;
  }
  return undefined;
}
