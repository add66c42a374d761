// Single sign-on through OpenID Connect (authorization code + PKCE, with openid-client): where to send a person, and which member they come back as.
import * as oidc from 'openid-client';
import { eq } from 'drizzle-orm';
import { members } from '../../db/schema.ts';
import { isLoopbackUrl, type OidcSettings } from '../config.ts';
import { line } from '../routes/schemas.ts';
import { recordAudit } from './audit.ts';
import { actorKey, systemActor, withTransaction, type Services } from './context.ts';
import { addMember, findMemberByEmail, memberActor } from './members.ts';
import { openSession, type SessionHolder } from './sessions.ts';
import { safeNext } from './stakeholder-sign-in.ts';
import { roles, type Role } from './tokens.ts';

/** Where the identity provider sends a person back (SPEC "People"): PUBLIC_URL + this path. */
export const oidcCallbackPath = '/internal/sign-in/oidc/callback';

/** What the browser keeps between leaving for the provider and coming back: PKCE verifier, state, nonce, landing. */
interface Pending {
  verifier: string;
  state: string;
  nonce: string;
  next: string;
}

export type OidcOutcome =
  | { state: 'signed-in'; session: { secret: string; expiresAt: Date }; next: string; actor: SessionHolder }
  | { state: 'refused'; reason: string };

/** The SSO door for one configured provider; discovery runs on first use and is retried after a failure. */
export interface OidcSignIn {
  /** The provider's authorization URL for a person who wants to land on `next`, and the value to keep in their cookie. */
  start(next: string | undefined): Promise<{ url: URL; pending: string }>;
  /** Finishes at the callback URL: checks state, nonce and PKCE, then signs the person in as a member (or refuses). */
  finish(s: Pick<Services, 'db' | 'clock'>, callbackUrl: URL, pending: string | undefined): Promise<OidcOutcome>;
}

const encode = (p: Pending) => Buffer.from(JSON.stringify(p)).toString('base64url');
function decode(raw: string | undefined): Pending | null {
  try {
    const p = JSON.parse(Buffer.from(raw ?? '', 'base64url').toString()) as Partial<Pending>;
    return typeof p.verifier === 'string' && typeof p.state === 'string' && typeof p.nonce === 'string' ? { verifier: p.verifier, state: p.state, nonce: p.nonce, next: safeNext(p.next) } : null;
  } catch {
    return null;
  }
}

/** The role a claim names: a string, or a list whose strongest entry counts; null when it names none of admin, comms, viewer. */
export function roleFromClaim(value: unknown): Role | null {
  const named = (Array.isArray(value) ? value : [value]).filter((v): v is Role => typeof v === 'string' && roles.includes(v as Role));
  return named.sort((a, b) => roles.indexOf(b) - roles.indexOf(a))[0] ?? null;
}

/**
 * Builds the SSO door. `publicUrl` makes the redirect URI. An http:// issuer is used only on a loopback address
 * (config.ts refuses any other at start-up). A person who is a member signs in with the member's own role, whatever
 * the claim says; a person from `allowedDomains` who is not yet a member becomes one with the claim's role (viewer
 * when it names none); anyone else is refused.
 */
export function oidcSignIn(settings: OidcSettings, publicUrl: string): OidcSignIn {
  const redirectUri = `${publicUrl}${oidcCallbackPath}`;
  let discovered: Promise<oidc.Configuration> | null = null;
  const configuration = () =>
    (discovered ??= oidc
      .discovery(
        new URL(settings.issuer),
        settings.clientId,
        settings.clientSecret ? { client_secret: settings.clientSecret } : undefined,
        settings.clientSecret ? oidc.ClientSecretBasic(settings.clientSecret) : oidc.None(),
        isLoopbackUrl(settings.issuer) && settings.issuer.startsWith('http:') ? { execute: [oidc.allowInsecureRequests] } : undefined,
      )
      .catch((e: unknown) => {
        discovered = null;
        throw e;
      }));

  return {
    async start(next) {
      const config = await configuration();
      const pending: Pending = { verifier: oidc.randomPKCECodeVerifier(), state: oidc.randomState(), nonce: oidc.randomNonce(), next: safeNext(next) };
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: 'openid email profile',
        code_challenge: await oidc.calculatePKCECodeChallenge(pending.verifier),
        code_challenge_method: 'S256',
        state: pending.state,
        nonce: pending.nonce,
      });
      return { url, pending: encode(pending) };
    },

    async finish(s, callbackUrl, raw) {
      const pending = decode(raw);
      if (!pending) return { state: 'refused', reason: 'This sign-in was not started here, or took too long. Start again.' };
      const providerError = callbackUrl.searchParams.get('error');
      if (providerError) return { state: 'refused', reason: `The identity provider said no (${providerError.slice(0, 100)}).` };
      const config = await configuration();
      // The provider answers at PUBLIC_URL: check the code against that address, whatever host the request came in on.
      const current = new URL(`${redirectUri}${callbackUrl.search}`);
      let claims: Record<string, unknown>;
      try {
        const tokens = await oidc.authorizationCodeGrant(config, current, { pkceCodeVerifier: pending.verifier, expectedState: pending.state, expectedNonce: pending.nonce, idTokenExpected: true });
        claims = { ...(tokens.claims() ?? {}) };
        if (typeof claims.email !== 'string') claims = { ...claims, ...(await oidc.fetchUserInfo(config, tokens.access_token, String(claims.sub))) };
      } catch (e) {
        return { state: 'refused', reason: `Single sign-on did not complete: ${(e as Error).message.slice(0, 200)}` };
      }
      const email = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : '';
      if (!email) return { state: 'refused', reason: 'The identity provider did not say your email address.' };
      if (claims.email_verified === false) return { state: 'refused', reason: 'The identity provider has not verified your email address.' };
      const now = s.clock.now();
      return withTransaction(s, async (tx): Promise<OidcOutcome> => {
        let member = await findMemberByEmail(tx, email);
        if (!member) {
          const domain = email.split('@').at(-1) ?? '';
          if (!settings.allowedDomains.includes(domain)) {
            return { state: 'refused', reason: `${email} is not a member of this status page. Ask an admin to add you on the Members screen.` };
          }
          const name = line(120).safeParse(claims.name);
          const role = roleFromClaim(claims[settings.roleClaim]) ?? 'viewer';
          member = await addMember({ ...s, tx }, systemActor('single sign-on'), { email, name: name.success ? name.data : email.split('@')[0], role }, { signInLink: false });
        }
        const actor = memberActor(member);
        const session = await openSession(tx, now, actor);
        await tx.update(members).set({ lastSignedInAt: now }).where(eq(members.id, member.id));
        await recordAudit(tx, { at: now, actor: actor, action: 'member.signed_in', subjectType: 'member', subjectId: member.id, detail: { via: 'sso', issuer: settings.issuer, by: actorKey(actor) } });
        return { state: 'signed-in', session, next: pending.next, actor };
      });
    },
  };
}
