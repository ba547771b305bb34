import t, { type Test } from 'tap';
import { CANONICAL_MODEL } from '../../src/model/canonical-model.js';
import { deniedWord } from '../../src/model/name-denylist.js';
import { loadProfile, parseProfile, ProfileError } from '../../src/model/profile.js';
import { buildRecord, normaliseProductCode } from '../../src/model/record-builder.js';
import { containsNir, scanValue } from '../../src/model/value-scanner.js';

/** A valid NIR for a 13-digit base: key = 97 − (base mod 97), computed here independently. */
const nir = (base: string) => base + String(97n - (BigInt(base) % 97n)).padStart(2, '0');

const reference = () => JSON.parse(JSON.stringify({
  profile: 'test',
  entities: {
    product: { table: 'produits', key: 'id', watermark: 'maj', fields: { source_id: 'id', code: 'cip13', label: 'libelle' } },
  },
})) as { profile: string; entities: Record<string, { table: string; key: string; watermark: string; fields: Record<string, unknown> }> };

function refusedWith(t: Test, input: unknown, code: string, what: string) {
  try {
    parseProfile(input);
    t.fail(`${what}: accepted`);
  } catch (err) {
    t.ok(err instanceof ProfileError, `${what}: ProfileError`);
    t.equal((err as ProfileError).code, code, `${what}: ${code}`);
  }
}

t.test('the shipped reference profile loads and stays inside the model', async (t) => {
  const p = loadProfile('reference');
  t.equal(p.name, 'reference');
  t.same(p.entities.map((e) => e.entity), ['product', 'supplier', 'stock', 'purchase_line', 'supplier_invoice', 'supplier_invoice_line', 'sale_line']);
  for (const e of p.entities) {
    for (const f of Object.keys(e.fields)) t.ok(f in CANONICAL_MODEL[e.entity], `${e.entity}.${f} is canonical`);
  }
});

t.test('a profile that widens the model or names patient data is refused at load', async (t) => {
  t.doesNotThrow(() => parseProfile(reference()), 'minimal profile accepted');

  const unknownEntity = reference();
  unknownEntity.entities.patient = { table: 'produits', key: 'id', watermark: 'maj', fields: { source_id: 'id' } };
  refusedWith(t, unknownEntity, 'profile_entity_unknown', 'entity outside the model');

  const unknownField = reference();
  unknownField.entities.product!.fields.patient_name = 'nom';
  refusedWith(t, unknownField, 'profile_field_unknown', 'field outside the model');

  const innocentField = reference();
  innocentField.entities.product!.fields.notes = 'remarque';
  refusedWith(t, innocentField, 'profile_field_unknown', 'innocent-looking field outside the model');

  const patientTable = reference();
  patientTable.entities.product!.table = 'patients';
  refusedWith(t, patientTable, 'profile_name_denied', 'patient table mapped as products');

  for (const col of ['id_client', 'patient_id', 'nir', 'num_secu', 'carte_vitale', 'ordonnance_id', 'prescripteur', 'rpps', 'code_adeli', 'mutuelle', 'code_amc', 'date_naissance', 'adresse', 'telephone', 'email', 'Email', 'numéroAssuré', 'PatientName', 'nom']) {
    const p = reference();
    p.entities.product!.fields.label = col;
    refusedWith(t, p, 'profile_name_denied', `column ${col} mapped onto product.label`);
  }
  const wm = reference();
  wm.entities.product!.watermark = 'date_naissance';
  refusedWith(t, wm, 'profile_name_denied', 'denied watermark column');

  for (const bad of ['../ventes', 'ventes/../../etc', 'a.csv', 'x;DROP TABLE y', '"q"']) {
    const p = reference();
    p.entities.product!.table = bad;
    refusedWith(t, p, 'profile_identifier_invalid', `identifier ${bad}`);
  }
  const missing = reference();
  delete missing.entities.product!.fields.code;
  refusedWith(t, missing, 'profile_required_missing', 'required field missing');
  refusedWith(t, { ...reference(), extra: true }, 'profile_invalid', 'unknown top-level key');
});

t.test('the name denylist keeps commercial names', async (t) => {
  for (const ok of ['libelle', 'raison_sociale', 'nom_fournisseur', 'supplier_name', 'pharmacie', 'stockage', 'commentaire', 'prix_public', 'cip13', 'maj', 'ticket']) {
    t.equal(deniedWord(ok), undefined, `${ok} allowed`);
  }
});

t.test('value scanner: NIR with its key, email, phone, date in free text', async (t) => {
  const good = nir('1850578006084');
  t.ok(containsNir(good), 'valid NIR detected');
  t.ok(containsNir(`NIR ${good.slice(0, 1)} ${good.slice(1, 3)} ${good.slice(3, 5)} ${good.slice(5, 7)} ${good.slice(7, 10)} ${good.slice(10, 13)} ${good.slice(13)}`), 'spaced NIR detected');
  const wrongKey = good.slice(0, 13) + String((Number(good.slice(13)) + 1) % 100).padStart(2, '0');
  t.notOk(containsNir(wrongKey), 'wrong key not a NIR');
  t.ok(containsNir(nir('2690299123456').replace(/^(.{5})99/, '$12A').replace(/..$/, String(97n - (BigInt('2690219123456') % 97n)).padStart(2, '0'))), 'Corsican 2A NIR detected');
  t.equal(scanValue(`voir ${good}`, false), 'nir');
  t.equal(scanValue('contact jeanne.martin@exemple.fr', false), 'email');
  t.equal(scanValue('rappeler au 06 12 34 56 78', false), 'phone');
  t.equal(scanValue('tel +33 6 12 34 56 78', false), 'phone');
  t.equal(scanValue('née le 12/03/1961', true), 'date_of_birth');
  t.equal(scanValue('DDN 1961-03-12', true), 'date_of_birth');
  t.equal(scanValue('née le 12 mars 1961', true), 'date_of_birth');
  t.equal(scanValue('DOLIPRANE 1000 mg, comprimé', true), undefined, 'drug label passes');
  t.equal(scanValue('3400949497294', false), undefined, 'CIP13 passes');
  t.equal(scanValue('livraison partielle', true), undefined);
});

t.test('records are built from the model, typed, and withheld when suspicious', async (t) => {
  const mapping = { source_id: { column: 'id' }, code: { column: 'cip' }, label: { column: 'lib' }, list_price_cents: { column: 'prix', unit: 'euros' as const } };
  const ok = buildRecord('product', mapping, { id: 7, cip: '3400949497294', lib: 'ANASTROZOLE', prix: 34.5, patient: 'DUPONT' });
  t.same(ok, { ok: true, record: { source_id: '7', code: '3400949497294', label: 'ANASTROZOLE', list_price_cents: 3450 } }, 'unmapped source column never copied');
  t.match(buildRecord('product', mapping, { id: 7, cip: '3400949497295', lib: 'X' }), { ok: false, reason: 'invalid_value', field: 'code' }, 'bad check digit');
  t.match(buildRecord('product', mapping, { id: 7, cip: '3400949497294', lib: 'x a.b@c.fr' }), { ok: false, reason: 'email' });
  t.equal(normaliseProductCode('4949729'), '3400949497294', 'CIP7 becomes its CIP13');
  const sale = buildRecord('sale_line', { source_id: { column: 'id' }, ticket_id: { column: 't' }, sold_at: { column: 'd' }, product_code: { column: 'c' }, quantity: { column: 'q' }, unit_price_ttc_cents: { column: 'p' } }, { id: 1, t: 'T1', d: '2025-07-01 10:00:00', c: '3400949497294', q: 2, p: '3,45' });
  t.same(sale, { ok: true, record: { source_id: '1', ticket_id: 'T1', sold_at: '2025-07-01T08:00:00.000Z', product_code: '3400949497294', quantity: 2, unit_price_ttc_cents: 345 } }, 'Paris summer time to UTC, French decimal');
  const winter = buildRecord('sale_line', { source_id: { column: 'id' }, ticket_id: { column: 't' }, sold_at: { column: 'd' }, product_code: { column: 'c' }, quantity: { column: 'q' }, unit_price_ttc_cents: { column: 'p' } }, { id: 1, t: 'T1', d: '2025-01-15 10:00', c: '3400949497294', q: 2, p: 3 });
  t.match(winter, { ok: true, record: { sold_at: '2025-01-15T09:00:00.000Z', unit_price_ttc_cents: 300 } }, 'winter time');
  t.match(buildRecord('sale_line', { source_id: { column: 'id' }, ticket_id: { column: 't' }, sold_at: { column: 'd' }, product_code: { column: 'c' }, quantity: { column: 'q' }, unit_price_ttc_cents: { column: 'p' } }, { id: 1, t: nir('1850578006084'), d: '2025-01-15', c: '3400949497294', q: 1, p: 1 }), { ok: false, reason: 'nir', field: 'ticket_id' }, 'NIR in an id field');
});
