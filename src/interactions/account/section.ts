// How a part of /account plugs in (docs/account.md, "For developers: adding a section"): a section
// renders its part of the overview and registers its own routes under /account/<id>/…, using the
// kit for what every action needs — the signed-in person, a recent authentication, CSRF, the
// audit request fields, and the way back to the overview.
import type Router from '@koa/router';
import type Koa from 'koa';
import type { AccountPerson, AccountRequest, AccountSession } from '../../account/account-context.ts';
import type { AccountService } from '../../account/account-service.ts';
import type { Locale } from '../../web/i18n.ts';
import type { LockState } from '../../web/lock-state.ts';

/** ctx.state on every /account route past the sign-in: who is signed in, in which page session. */
export interface AccountState extends LockState {
  account: { session: AccountSession; person: AccountPerson };
}

export type AccountContext = Koa.ParameterizedContext<AccountState>;

export interface AccountKit {
  service: AccountService;
  /**
   * True when the person proved who they are within LOCK_ACCOUNT_REAUTH_SECONDS; otherwise sends
   * them through a Lock sign-in (prompt=login) that comes back to `returnTo` (a GET page under
   * /account: the action's form), and returns false — the caller stops there.
   */
  requireRecentAuthentication(ctx: AccountContext, returnTo: string): Promise<boolean>;
  /** The CSRF token for this page session's forms (a hidden `csrf` field). */
  csrfToken(ctx: AccountContext): string;
  /** Reads the form and checks its `csrf`: undefined (and a 403 page) when it is missing or wrong. */
  readCheckedForm(ctx: AccountContext): Promise<URLSearchParams | undefined>;
  /** The request's fields for the audit log. */
  request(ctx: AccountContext): AccountRequest;
  /** The person's language (Accept-Language, then LOCK_DEFAULT_LOCALE): `locale.t('account.…')`. */
  locale(ctx: AccountContext): Locale;
  /**
   * A whole page of the section (views/account/<view>.eta) in the person's language, with the
   * account pages' headers. `title` is a catalogue key; `error` (translated text) marks the title.
   */
  renderPage(
    ctx: AccountContext,
    view: string,
    data: { title: string; error?: string | undefined } & Record<string, unknown>,
  ): void;
  /** Its part of the overview: views/account/<view>.eta without the layout, in the person's language. */
  renderFragment(ctx: AccountContext, view: string, data: Record<string, unknown>): string;
  /** Back to the overview with one of the notices sections declare (`notices`), by its key. */
  done(ctx: AccountContext, notice: string, anchor?: string): void;
  /** The error page, for a refusal a person can act on: `title` and `message` are catalogue keys. */
  refuse(ctx: AccountContext, status: number, title: string, message: string): void;
}

export interface AccountSection {
  /** The anchor on the overview and the first path segment of its routes: /account/<id>. */
  id: string;
  /** A catalogue key (views/locales/en.json): the section's heading. */
  title: string;
  /** Whether the person sees the section (for example only Lock's own accounts); default: everyone. */
  shows?(person: AccountPerson): boolean;
  /** Notices shown on the overview after its actions (`kit.done(ctx, key)`): key → catalogue key. */
  notices?: Record<string, string>;
  /** Its part of the overview, as HTML (a fragment of views/account/). */
  render(ctx: AccountContext, kit: AccountKit): Promise<string>;
  /** Its routes, on the /account router (paths start with `/account/<id>`). */
  register(router: Router<AccountState>, kit: AccountKit): void;
}
