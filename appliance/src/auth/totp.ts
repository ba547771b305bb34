import QRCode from 'qrcode';
import speakeasy from 'speakeasy';

/** TOTP parameters: RFC 6238 defaults every authenticator app supports (SHA-1, 6 digits, 30 s), ±1 step of drift. */
export const TOTP_STEP_SECONDS = 30;
export const TOTP_WINDOW = 1;

/** A freshly generated seed and what the UI shows to enrol it. */
export interface TotpEnrolment {
  secret: string;
  otpauthUrl: string;
  qrDataUrl: string;
}

/** TOTP with speakeasy: seed generation, otpauth URI + QR code, verification returning the matched time step. */
export class Totp {
  constructor(private readonly clock: { now(): Date }) {}

  async enrol(accountLabel: string, issuer = 'Officine Appliance'): Promise<TotpEnrolment> {
    const s = speakeasy.generateSecret({ length: 20 });
    const otpauthUrl = speakeasy.otpauthURL({ secret: s.base32, encoding: 'base32', label: accountLabel, issuer, algorithm: 'sha1', digits: 6, period: TOTP_STEP_SECONDS });
    const qrDataUrl = await QRCode.toDataURL(otpauthUrl, { errorCorrectionLevel: 'M', margin: 2 });
    return { secret: s.base32, otpauthUrl, qrDataUrl };
  }

  /**
   * The time step a code belongs to (within ±1 step of now), or undefined. Callers
   * store the last accepted step and refuse any step not above it: each code once.
   */
  matchStep(secretBase32: string, code: string): number | undefined {
    if (!/^\d{6}$/.test(code)) return undefined;
    const time = Math.floor(this.clock.now().getTime() / 1000);
    const r = speakeasy.totp.verifyDelta({ secret: secretBase32, encoding: 'base32', token: code, window: TOTP_WINDOW, time, step: TOTP_STEP_SECONDS });
    if (!r) return undefined;
    return Math.floor(time / TOTP_STEP_SECONDS) + r.delta;
  }
}
