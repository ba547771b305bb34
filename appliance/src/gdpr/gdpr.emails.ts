import type { MailMessage } from '../mail/mailer.js';

const SIGNATURE = '\n\n— Officine Appliance\nCe message est automatique : merci de ne pas y répondre.';
const frDate = (d: Date) => d.toLocaleDateString('fr-FR', { timeZone: 'Europe/Paris', day: 'numeric', month: 'long', year: 'numeric' });

/** Sent 30 days before an inactive account is deleted (essential: sent even to opted-out accounts). */
export function inactivityWarningEmail(to: string, displayName: string, purgeOn: Date, months: number, loginUrl: string): MailMessage {
  return {
    to,
    subject: 'Votre compte Officine va être supprimé pour inactivité',
    text:
      `Bonjour ${displayName},\n\nVous ne vous êtes pas connecté(e) à Officine depuis près de ${months} mois. ` +
      `Conformément à notre politique de protection des données, votre compte et vos données personnelles seront supprimés le ${frDate(purgeOn)}.\n\n` +
      `Pour conserver votre compte, il suffit de vous connecter avant cette date :\n\n${loginUrl}\n\n` +
      'Si vous n’utilisez plus Officine, vous n’avez rien à faire.' +
      SIGNATURE,
  };
}

/** Confirms an erasure request: the account is disabled now, data purged by the given date. */
export function erasureRequestedEmail(to: string, displayName: string, purgeBy: Date): MailMessage {
  return {
    to,
    subject: 'Votre demande de suppression de compte Officine',
    text:
      `Bonjour ${displayName},\n\nNous avons bien reçu votre demande d’effacement. Votre compte est désactivé dès maintenant ` +
      `et vos données personnelles seront supprimées au plus tard le ${frDate(purgeBy)}.\n\n` +
      'Le journal d’audit de sécurité conserve la trace des actions passées, sans votre nom ni votre adresse : vous n’y figurez plus que sous une forme pseudonyme.\n\n' +
      'Si vous n’êtes pas à l’origine de cette demande, contactez sans attendre le titulaire de votre pharmacie ou le support du groupement.' +
      SIGNATURE,
  };
}
