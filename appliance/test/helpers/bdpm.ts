import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The real BDPM extract shipped beside the repository (../shared/data/bdpm), or $OFFICINE_BDPM_DIR. */
export const BDPM_DIR = process.env.OFFICINE_BDPM_DIR ?? resolve(import.meta.dirname, '../../../../../shared/data/bdpm');

/**
 * Three tiny BDPM files in their real encodings (UTF-8 with BOM, Latin-1, UTF-8):
 * two good presentations (one with a thousands-separated price) and one bad CIP13.
 */
export function writeTinyBdpm(dir: string): void {
  writeFileSync(
    join(dir, 'CIS_bdpm.txt'),
    Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from('60000001\tTESTOMYCINE 10 mg, comprimé sécable\tcomprimé\torale\tAutorisation active\tProcédure nationale\tCommercialisée\t01/01/2000\t\t\t LABO ÉTOILE\tNon\n', 'utf8'),
    ]),
  );
  writeFileSync(
    join(dir, 'CIS_CIP_bdpm.txt'),
    Buffer.from(
      [
        '60000001\t4949729\tplaquette(s) de 30 comprimé(s)\tPrésentation active\tDéclaration de commercialisation\t16/03/2011\t3400949497294\toui\t65 %\t2,850,07\t2,851,09\t1,02\t',
        '60000001\t4949730\tflacon\tPrésentation active\tDéclaration d\'arrêt de commercialisation\t16/03/2011\t3400949497300\tnon\t\t\t\t\t',
        '60000001\t4949731\tmauvais\tPrésentation active\tDéclaration de commercialisation\t16/03/2011\t3400949497311\tnon\t\t\t\t\t',
      ].join('\r\n'),
      'latin1',
    ),
  );
  writeFileSync(join(dir, 'CIS_GENER_bdpm.txt'), '77\tTESTOMYCINE 10 mg - PRINCEPS®\t60000001\t1\t2\t\n', 'utf8');
}
