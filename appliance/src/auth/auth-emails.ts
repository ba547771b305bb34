import type { MailMessage } from '../mail/mailer.js';

const SIGNATURE = '\n\n— Officine Appliance\nCe message est automatique : merci de ne pas y répondre.';

/** Sent to the owner when 5 failed logins lock the account. */
export function lockoutEmail(to: string, minutes: number, ip: string): MailMessage {
  return {
    to,
    subject: 'Votre compte Officine a été verrouillé temporairement',
    text:
      `Bonjour,\n\nPlusieurs tentatives de connexion ont échoué sur votre compte. Par sécurité, il est verrouillé pendant ${minutes} minutes.\n` +
      `Dernière tentative depuis l’adresse ${ip}.\n\n` +
      'Si vous êtes à l’origine de ces tentatives, patientez puis réessayez, ou réinitialisez votre mot de passe.\n' +
      'Sinon, prévenez votre titulaire ou le support informatique du groupement : quelqu’un essaie peut-être de deviner votre mot de passe.' +
      SIGNATURE,
  };
}

/** Password reset link (30 minutes, single use). The token is in the URL fragment, never sent to a server log. */
export function resetEmail(to: string, link: string, minutes: number): MailMessage {
  return {
    to,
    subject: 'Réinitialisation de votre mot de passe Officine',
    text:
      `Bonjour,\n\nPour choisir un nouveau mot de passe, ouvrez ce lien (valable ${minutes} minutes, utilisable une seule fois) :\n\n${link}\n\n` +
      'Si vous avez activé la double authentification, un code de votre application vous sera demandé.\n' +
      'Si vous n’avez rien demandé, ignorez ce message : votre mot de passe reste inchangé.' +
      SIGNATURE,
  };
}

/** Email verification (and first password choice) for a new account. */
export function verifyEmail(to: string, displayName: string, link: string, hours: number): MailMessage {
  return {
    to,
    subject: 'Activez votre compte Officine',
    text:
      `Bonjour ${displayName},\n\nUn compte Officine a été créé pour vous. Pour confirmer votre adresse et activer le compte, ouvrez ce lien (valable ${hours} heures) :\n\n${link}\n\n` +
      'Si vous ne vous attendiez pas à ce message, ignorez-le.' +
      SIGNATURE,
  };
}

/** Told to a pharmacy's admins when a super-admin opens break-glass access on it. */
export function breakGlassEmail(to: string, pharmacy: string, operator: string, reason: string, until: Date): MailMessage {
  return {
    to,
    subject: `Accès d’urgence ouvert sur ${pharmacy}`,
    text:
      `Bonjour,\n\nL’administrateur de l’appliance ${operator} a ouvert un accès d’urgence (« bris de glace ») aux données de ${pharmacy}, ` +
      `jusqu’au ${until.toLocaleString('fr-FR', { timeZone: 'Europe/Paris' })} (heure de Paris).\n\nMotif déclaré : ${reason}\n\n` +
      'Chaque requête faite sous cet accès est inscrite au journal d’audit, consultable dans l’administration de votre pharmacie.' +
      SIGNATURE,
  };
}
