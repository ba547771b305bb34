import type { ComponentChildren } from 'preact';
import { get } from '../api/client';
import { ErrorNotice, Loading } from './notice';
import { useApi } from './use-api';

/** A pharmacy as identity returns it (`GET /api/pharmacies/:id`), and how the caller reaches it. */
export interface PharmacyInfo {
  pharmacy: { id: string; name: string; finess: string | null; address: string | null };
  access: 'member' | 'grant' | 'break_glass';
}

/** The pharmacy's name under a page heading. */
export function PharmacyName({ info }: { info: PharmacyInfo }) {
  return (
    <p class="pharmacy-name" data-testid="pharmacy-name">
      {info.pharmacy.name}
    </p>
  );
}

/**
 * Wraps every pharmacy page: asks the server whether the caller may see this
 * pharmacy before anything else loads. A pharmacy id edited in the URL gets the
 * server's refusal in French and no data request at all. Group admins and
 * operators are told under which access they are looking.
 */
export function PharmacyGate({ pharmacyId, children }: { pharmacyId: string; children: (info: PharmacyInfo) => ComponentChildren }) {
  const info = useApi((s) => get<PharmacyInfo>(`/api/pharmacies/${encodeURIComponent(pharmacyId)}`, undefined, s), [pharmacyId]);
  if (info.error)
    return (
      <>
        <h1>Pharmacie inaccessible</h1>
        <ErrorNotice error={info.error} />
      </>
    );
  if (!info.data) return <Loading />;
  return (
    <>
      {children(info.data)}
      {info.data.access === 'grant' && <p class="notice notice-info">Vous consultez cette pharmacie grâce à l’accès qu’elle a accordé au groupement.</p>}
      {info.data.access === 'break_glass' && (
        <p class="notice notice-error">Accès d’urgence en cours : chaque consultation est journalisée et visible par la pharmacie.</p>
      )}
    </>
  );
}
