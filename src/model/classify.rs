//! The one classifier: what Meta's error codes mean to sq. Graph error code/subcode/HTTP status
//! → failure class (the `--class` of `sq requeue`), the reason a token died, and the few
//! readings other modules need beyond the class: what a failed token check says about the
//! token (diagnose), whether a publish met a container that isn't ready or is dead (publish),
//! the publishing quota, and why a code exchange was refused (meta). Meta's tables are at
//! https://developers.facebook.com/docs/graph-api/guides/error-handling and
//! https://developers.facebook.com/documentation/instagram-platform/instagram-graph-api/reference/error-codes.
//!
//! Pure: plain numbers in, plain data out. Everything else in sq (retry policy, publisher,
//! diagnose engine, exit codes) asks this module, and nothing else compares error codes.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md; spec §n of docs/reference/spec.md.

use serde::Serialize;
use std::fmt;

/// Failure classes of spec §6 (`--class` on `sq requeue`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    /// The token or its permissions: re-authorize. Never retried.
    Auth,
    /// Throttled or quota reached: wait. Retried within bounds.
    RateLimit,
    /// Meta-side hiccup or not-ready-yet: retry with backoff.
    Transient,
    /// The media itself (size, format, fetch): fix the media. Never retried blindly.
    Media,
    /// The request or the content (duplicate, blocked, bad parameter): fix it. Never retried.
    Content,
    /// Anything not in the tables.
    Unknown,
}

impl FailureClass {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureClass::Auth => "auth",
            FailureClass::RateLimit => "rate_limit",
            FailureClass::Transient => "transient",
            FailureClass::Media => "media",
            FailureClass::Content => "content",
            FailureClass::Unknown => "unknown",
        }
    }

    /// Whether the client may retry on its own (transient errors and rate limits only).
    pub fn is_retryable(self) -> bool {
        matches!(self, FailureClass::Transient | FailureClass::RateLimit)
    }
}

impl fmt::Display for FailureClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why Meta considers a token dead (code 190 / 102 subcodes, meta-platform.md §8.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenDeath {
    /// 458: the user removed the app (Business Integrations) or revoked everything.
    AppRemoved,
    /// 459: the account is checkpointed; the user must fix it on facebook.com.
    Checkpoint,
    /// 460: password changed or session reset for security; every derived Page token is dead.
    PasswordChanged,
    /// 463: expired.
    Expired,
    /// 464: the user has not confirmed the account.
    UnconfirmedUser,
    /// 467: the user logged out.
    LoggedOut,
    /// 492: the user lost the Page role the Page token was derived through.
    PageRoleLost,
    /// Any other invalid token (no subcode, malformed, undecryptable, unknown subcode).
    Invalid,
}

impl TokenDeath {
    /// From a 190/102 subcode; unknown or missing subcodes mean "invalid".
    pub fn from_subcode(subcode: Option<i64>) -> TokenDeath {
        match subcode {
            Some(458) => TokenDeath::AppRemoved,
            Some(459) => TokenDeath::Checkpoint,
            Some(460) => TokenDeath::PasswordChanged,
            Some(463) => TokenDeath::Expired,
            Some(464) => TokenDeath::UnconfirmedUser,
            Some(467) => TokenDeath::LoggedOut,
            Some(492) => TokenDeath::PageRoleLost,
            _ => TokenDeath::Invalid,
        }
    }

    /// The diagnose finding code of spec §4.
    pub fn finding_code(self) -> &'static str {
        match self {
            TokenDeath::AppRemoved => "token_app_removed",
            TokenDeath::Checkpoint => "token_checkpoint",
            TokenDeath::PasswordChanged => "token_password_changed",
            TokenDeath::Expired => "token_expired",
            TokenDeath::UnconfirmedUser => "token_unconfirmed_user",
            TokenDeath::LoggedOut => "token_logged_out",
            TokenDeath::PageRoleLost => "page_role_lost",
            TokenDeath::Invalid => "token_invalid",
        }
    }

    /// Plain words for messages: what happened (the fix is chosen by the caller).
    pub fn describe(self) -> &'static str {
        match self {
            TokenDeath::AppRemoved => "the app was removed from the account or its permissions were revoked",
            TokenDeath::Checkpoint => "Meta put the account on a security checkpoint",
            TokenDeath::PasswordChanged => {
                "Meta ended the session because the account password changed (or for security reasons)"
            }
            TokenDeath::Expired => "the token expired",
            TokenDeath::UnconfirmedUser => "the account is not confirmed yet",
            TokenDeath::LoggedOut => "the user logged out, which ended the session",
            TokenDeath::PageRoleLost => "the user who connected the Page no longer has a role on it",
            TokenDeath::Invalid => "Meta no longer accepts the token",
        }
    }
}

/// What [`classify`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Classification {
    pub class: FailureClass,
    /// Set only when the token itself is dead (190/102, or a `WWW-Authenticate: invalid_token`).
    pub token_death: Option<TokenDeath>,
    /// Set when Meta refused the call for a reason a new login can't fix ([`refusal`]).
    pub refusal: Option<Refusal>,
}

impl Classification {
    pub const fn of(class: FailureClass) -> Classification {
        Classification { class, token_death: None, refusal: None }
    }

    /// A dead token, and why.
    pub const fn dead(death: TokenDeath) -> Classification {
        Classification { class: FailureClass::Auth, token_death: Some(death), refusal: None }
    }

    /// This classification with Meta's words taken into account: a refusal of the app secret
    /// or of the app's access is not the token's death, and holds the profile like an auth
    /// failure (a retry can't help, fixing the configuration does).
    pub fn with_refusal(self, refusal: Option<Refusal>) -> Classification {
        match refusal {
            Some(r) => Classification { class: FailureClass::Auth, token_death: None, refusal: Some(r) },
            None => self,
        }
    }
}

/// A refusal that says nothing about the token: the app's configuration or its access on Meta's
/// side is what must change, so re-authorizing is never the fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// Meta refuses the app secret sq holds: the app token's signature, the `appsecret_proof`,
    /// or the `client_secret` of an exchange.
    AppSecret,
    /// A permission is missing for this call (codes 3, 10, 200–299).
    Permission,
    /// The app has only Standard Access for this, or the user has no role on the app
    /// (Instagram's 100 "Unsupported request", Threads' 100/10).
    AccessLevel,
    /// A Page reached through a Business Manager role: Instagram publishing also needs
    /// `ads_management` or `ads_read`.
    AdsPermission,
}

/// Reads Meta's words where the code alone is ambiguous. Sources:
/// - A wrong app secret: `debug_token` with `{app-id}|{wrong-secret}` answers 190 "Invalid OAuth
///   access token signature." (<https://github.com/firebase/firebase-ios-sdk/issues/2262>), a
///   wrong `appsecret_proof` 100 "Invalid appsecret_proof provided in the API argument"
///   (<https://github.com/facebook/facebook-python-business-sdk/issues/528>), an exchange code 1
///   "Error validating client secret." (<https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow>).
///   `app_token` says whether the call was made with the app token, the only case where the
///   signature error is about the secret rather than the token.
/// - Access levels and app roles: <https://developers.facebook.com/docs/graph-api/overview/access-levels>;
///   Threads' 100/10 "requires the threads_basic permission" for a user without a role:
///   <https://developers.facebook.com/docs/threads/troubleshooting>.
/// - Business Manager Pages: <https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media>.
pub fn refusal(
    code: Option<i64>,
    subcode: Option<i64>,
    error_type: Option<&str>,
    message: &str,
    app_token: bool,
) -> Option<Refusal> {
    let m = message.to_ascii_lowercase();
    let code = code?;
    if m.contains("validating client secret")
        || (code == 100 && m.contains("appsecret_proof") && m.contains("invalid"))
    {
        return Some(Refusal::AppSecret);
    }
    if code == 190 && app_token && m.contains("access token signature") {
        return Some(Refusal::AppSecret);
    }
    match (code, subcode) {
        (100, Some(10)) => Some(Refusal::AccessLevel),
        // Graph's own "Unsupported get request. Object … does not exist" (100/33) is another
        // matter: only Instagram's wording, with its exception type when it is known.
        (100, None)
            if m.contains("unsupported request - method type")
                && error_type.is_none_or(|t| t == "IGApiException") =>
        {
            Some(Refusal::AccessLevel)
        }
        (3 | 10, _) | (200..=299, _) if m.contains("ads_management") || m.contains("ads_read") => {
            Some(Refusal::AdsPermission)
        }
        (3 | 10, _) | (200..=299, _) => Some(Refusal::Permission),
        _ => None,
    }
}

/// Instagram publishing subcodes that are about the media itself (meta-platform.md §8.4):
/// fetch failures, size/format/aspect/caption limits and the container-status upload errors.
const MEDIA_SUBCODES: &[i64] =
    &[2207004, 2207005, 2207009, 2207010, 2207026, 2207052, 2207057, 2207076, 2207077, 2207082];

/// THE classifier. `code`/`subcode` come from any of Meta's error shapes (§8.1, §5.2, §2.2);
/// `http_status` is used only when Meta gave no code (§8.1: "classify by code/subcode, not by
/// HTTP status").
pub fn classify(code: Option<i64>, subcode: Option<i64>, http_status: Option<u16>) -> Classification {
    use FailureClass::*;
    // Media subcodes win over their (varied) top-level codes: 9004/2207052, 1/2207057, and the
    // container-status failures that come with no code at all (2207026/76/77/82).
    if let Some(s) = subcode {
        if MEDIA_SUBCODES.contains(&s) {
            return Classification::of(Media);
        }
    }
    let Some(code) = code else {
        return match http_status {
            Some(429) => Classification::of(RateLimit),
            Some(408) => Classification::of(Transient),
            Some(s) if s >= 500 => Classification::of(Transient),
            // A bare 401 with no Graph error is still "the token was refused".
            Some(401) => Classification::dead(TokenDeath::Invalid),
            _ => Classification::of(Unknown),
        };
    };
    match (code, subcode) {
        // §8.3: token dead; 102 is the legacy session code, "treat like 190".
        // 190/2069032 is "a Page token is required": the token is fine, it is the wrong kind.
        (190, Some(2069032)) => Classification::of(Auth),
        (190 | 102, s) => Classification::dead(TokenDeath::from_subcode(s)),

        // §8.4 exceptions under otherwise-classified codes.
        (4, Some(2207051)) => Classification::of(Content), // restricted as suspected spam
        (10, Some(2207081)) => Classification::of(Content), // trial reels not allowed
        (1, Some(2853006)) => Classification::of(Auth),    // §4.4: viewer lacks permission
        (24, Some(2207006)) => Classification::of(Content), // wrong media/container id
        (200, Some(2069030 | 2069031 | 2069033)) => Classification::of(Content), // §4.4 unsupported
        // §6.5: Threads "requires the threads_basic permission" is code 100, subcode 10.
        (100, Some(10)) => Classification::of(Auth),
        // §1.3: code exchange (expired/mismatched/reused code): the user must log in again.
        (100, Some(36007..=36009)) => Classification::of(Auth),
        // §8.4: 100/33 "does not exist or missing permissions" — also seen during Meta incidents
        // with valid tokens, so neither a sure content nor a sure auth problem.
        (100, Some(33)) => Classification::of(Unknown),

        // §8.2 permission family. 3 = capability missing. 25 = IG account restricted (§8.4):
        // a user action in the app, so the profile is held like an auth failure.
        // 4476002 = Facebook app id sent to Threads OAuth (§6.1): a configuration fix.
        (3 | 10 | 25 | 4476002, _) | (200..=299, _) => Classification::of(Auth),

        // §8.2 rate limits; 9/2207042 is Instagram's daily publishing quota (§8.4).
        (4 | 9 | 17 | 32 | 341 | 613, _) | (80000..=80014, _) => Classification::of(RateLimit),

        // §8.2 / §8.4 transient: unknown/service errors, IG server errors (-1/-2, including
        // 2207020 "container expired", which a fresh container fixes), 9007/2207027 "not ready".
        (1 | 2 | -1 | -2 | 9007, _) => Classification::of(Transient),
        // §6.5: Threads answers 24 "resource does not exist" when publishing before the
        // container is ready (no subcode); a retry after FINISHED works.
        // Threads' 24/4279009 "Media Not Found" and Instagram's 24/2207008 "Media builder not
        // found" are the same "not there yet" (see `container_signal`): not a final failure.
        (24, None | Some(4279009 | 2207008)) => Classification::of(Transient),

        // §8.4 media codes.
        (9004, _) | (36000..=36004, _) => Classification::of(Media),

        // §7.1 / §8.2 content: duplicate, policy block, link scrape failure, bad parameter,
        // wrong object id (12), and the remaining 24s with a subcode.
        (12 | 24 | 100 | 368 | 506 | 1609005, _) => Classification::of(Content),

        _ => Classification::of(Unknown),
    }
}

/// What an error about a token (a failed call made with it, or `debug_token`'s `error`) says
/// about that token: `sq diagnose` decides on this alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenVerdict {
    /// Meta refused the token, and why. Any refusal that isn't throttling or temporary counts:
    /// a token Meta won't take for a call is of no use to publish with.
    Dead(TokenDeath),
    /// Throttled: the error says nothing about the token.
    Throttled,
    /// A temporary problem on Meta's side: the error says nothing about the token.
    Transient,
    /// Meta refused the call for a reason that isn't the token ([`Refusal`]).
    Refused(Refusal),
    /// An error the tables don't know: the token's health is unknown, in Meta's words.
    Unknown,
}

impl Classification {
    /// The verdict on the token this error was about. `is_transient` is Meta's own flag on the
    /// error: it makes any error that isn't a token death temporary.
    pub fn token_verdict(self, is_transient: bool) -> TokenVerdict {
        if let (None, Some(r)) = (self.token_death, self.refusal) {
            return TokenVerdict::Refused(r);
        }
        match (self.token_death, self.class) {
            (Some(death), _) => TokenVerdict::Dead(death),
            (None, FailureClass::RateLimit) => TokenVerdict::Throttled,
            (None, FailureClass::Transient) => TokenVerdict::Transient,
            (None, _) if is_transient => TokenVerdict::Transient,
            // A refusal of the token in the auth family (an account restriction, the wrong kind
            // of token): a token Meta won't take for a call is of no use to publish with.
            (None, FailureClass::Auth) => TokenVerdict::Dead(TokenDeath::Invalid),
            // Content, media and unknown codes are not about the token: saying "invalid" would
            // send the user to re-authorize for nothing.
            (None, _) => TokenVerdict::Unknown,
        }
    }
}

/// Code 100, "Invalid parameter" / "Unsupported request": besides bad requests, what Instagram
/// Login answers every call of an account that has no role on an app with only Standard Access
/// (https://developers.facebook.com/docs/permissions, access levels).
pub fn is_invalid_parameter(code: Option<i64>) -> bool {
    code == Some(100)
}

/// What a failed Instagram/Threads publish (`media_publish`, `threads_publish`) says about the
/// container it named, beyond its class. The publisher acts on it; nothing else does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContainerSignal {
    /// Meta is still processing the media: read the status, wait, publish the same container.
    NotReady,
    /// Meta can't find the container *yet*: seconds after creation, sometimes even after a
    /// status read said FINISHED. Wait, retry, and make a new container once if it stays
    /// missing; never a final failure on the first one.
    NotFoundYet,
    /// The container can't be published any more (expired, or creation failed on Meta's
    /// side): make a new one.
    Dead,
}

/// The container table. Sources:
/// - 9007/2207027 "Media ID is not available", -2/2207020 expired, -1/2207032 and
///   -1/2207053 "create a new container":
///   <https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/error-codes>
/// - Threads 24 without a subcode before the container is ready:
///   <https://developers.facebook.com/docs/threads/troubleshooting>
/// - Threads 24/4279009 "Media Not Found" about 7 s after creation, also after FINISHED:
///   <https://github.com/gitroomhq/postiz-app/pull/2047>,
///   <https://github.com/fbsamples/threads_api/issues/70>,
///   <https://github.com/trypostit/trypost/pull/280> (recreates the container for this error).
/// - Instagram 24/2207008 "Media builder not found" can mean the same thing (error-codes page
///   above; seen as a timing error in the same reports).
pub fn container_signal(code: Option<i64>, subcode: Option<i64>) -> Option<ContainerSignal> {
    match (code?, subcode) {
        (9007, _) => Some(ContainerSignal::NotReady),
        (24, None | Some(4279009 | 2207008)) => Some(ContainerSignal::NotFoundYet),
        (_, Some(2207020 | 2207032 | 2207053)) => Some(ContainerSignal::Dead),
        _ => None,
    }
}

/// Meta's answer to a call made without a token: 104 "An access token is required to request
/// this resource." (2500 for `/me`). A Native/Desktop app's app token gets this answer, since
/// Meta treats calls made with it as tokenless
/// (https://developers.facebook.com/docs/facebook-login/security/).
pub fn is_tokenless(code: Option<i64>) -> bool {
    matches!(code, Some(104 | 2500))
}

/// Code 9: the publishing quota over a rolling 24 hours (Instagram 9/2207042, Threads 9), not a
/// per-hour call budget, so a retry makes sense only much later.
pub fn is_publishing_quota(code: Option<i64>) -> bool {
    code == Some(9)
}

/// Codes 1 (API Unknown) and 2 (API Service): Meta's server failed while handling the request,
/// possibly after acting on it.
pub fn is_server_error(code: Option<i64>) -> bool {
    matches!(code, Some(1 | 2))
}

/// Why Meta refused an authorization-code exchange
/// (https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeProblem {
    /// 36007: the code is too old (minutes on Facebook, 1 h on Instagram/Threads).
    Expired,
    /// 36008: `redirect_uri` differs from the one used in the dialog.
    RedirectUriMismatch,
    /// 36009: codes are single-use.
    AlreadyUsed,
    /// Instagram Login's `{error_type, code: 400, error_message}` ("Matching code was not found
    /// or was already used"), or a garbled code.
    Rejected,
}

impl CodeProblem {
    /// Plain words for messages: what happened.
    pub fn describe(self) -> &'static str {
        match self {
            CodeProblem::Expired => "the authorization code expired before it was exchanged",
            CodeProblem::RedirectUriMismatch => {
                "the redirect URI differs from the one used in the authorization dialog"
            }
            CodeProblem::AlreadyUsed => "the authorization code was already used",
            CodeProblem::Rejected => "Meta did not accept the authorization code",
        }
    }
}

/// What a refused code exchange means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExchangeRefusal {
    /// Threads OAuth was given the Facebook app id (4476002, as a code or a subcode):
    /// https://developers.facebook.com/docs/threads/troubleshooting
    WrongThreadsAppId,
    /// The code itself was refused.
    Code(CodeProblem),
}

/// Reads a failed code exchange. `error_type` is the error's `type`/`error_type` when Meta sent
/// one: Instagram Login answers a refused code in its own shape, `code: 400` with an
/// `error_type`. Facebook's "Invalid verification code format." is code 100 without a subcode,
/// told apart from other 100s by its message. `None`: an error like any other.
pub fn exchange_refusal(
    code: Option<i64>,
    subcode: Option<i64>,
    error_type: Option<&str>,
    message: &str,
) -> Option<ExchangeRefusal> {
    if code == Some(4476002) || subcode == Some(4476002) {
        return Some(ExchangeRefusal::WrongThreadsAppId);
    }
    // The app secret, not the code: Instagram Login says it in its own `code: 400` shape, which
    // would otherwise read as a refused code ([`refusal`] names it).
    if message.to_ascii_lowercase().contains("validating client secret") {
        return None;
    }
    let problem = match (code, subcode) {
        (_, Some(36007)) => CodeProblem::Expired,
        (_, Some(36008)) => CodeProblem::RedirectUriMismatch,
        (_, Some(36009)) => CodeProblem::AlreadyUsed,
        (Some(400), None) if error_type.is_some() => CodeProblem::Rejected,
        (Some(100), None) if message.to_ascii_lowercase().contains("verification code") => {
            CodeProblem::Rejected
        }
        _ => return None,
    };
    Some(ExchangeRefusal::Code(problem))
}

#[cfg(test)]
mod tests {
    use super::*;
    use FailureClass::*;
    use TokenDeath as D;

    /// (code, subcode, HTTP status, expected class, expected token death)
    type Row = (Option<i64>, Option<i64>, Option<u16>, FailureClass, Option<TokenDeath>);

    #[track_caller]
    fn check(rows: &[Row]) {
        for &(code, sub, status, class, death) in rows {
            let got = classify(code, sub, status);
            assert_eq!(got.class, class, "class of code={code:?} sub={sub:?} status={status:?}");
            assert_eq!(got.token_death, death, "death of code={code:?} sub={sub:?} status={status:?}");
        }
    }

    #[test]
    fn refusals_read_metas_words() {
        use Refusal as R;
        // (code, subcode, type, message, made with the app token, expected)
        type Row<'a> = (Option<i64>, Option<i64>, Option<&'a str>, &'a str, bool, Option<Refusal>);
        let rows: &[Row] = &[
            (Some(190), None, None, "Invalid OAuth access token signature.", true, Some(R::AppSecret)),
            (Some(190), None, None, "Invalid OAuth access token signature.", false, None),
            (
                Some(100),
                None,
                None,
                "Invalid appsecret_proof provided in the API argument",
                false,
                Some(R::AppSecret),
            ),
            (
                Some(100),
                None,
                None,
                "API calls from the server require an appsecret_proof argument",
                false,
                None,
            ),
            (Some(1), None, None, "Error validating client secret.", false, Some(R::AppSecret)),
            (
                Some(10),
                None,
                None,
                "(#10) Requires pages_manage_posts permission",
                false,
                Some(R::Permission),
            ),
            (Some(200), None, None, "(#200) Permissions error", false, Some(R::Permission)),
            (Some(10), None, None, "(#10) needs ads_management or ads_read", false, Some(R::AdsPermission)),
            (
                Some(100),
                None,
                Some("IGApiException"),
                "Unsupported request - method type: get",
                false,
                Some(R::AccessLevel),
            ),
            (
                Some(100),
                None,
                Some("GraphMethodException"),
                "Unsupported request - method type: get",
                false,
                None,
            ),
            (
                Some(100),
                Some(33),
                None,
                "Unsupported get request. Object with ID '1' does not exist",
                false,
                None,
            ),
            (Some(100), Some(10), None, "requires the threads_basic permission", false, Some(R::AccessLevel)),
            (Some(190), Some(460), None, "password changed", true, None),
            (None, None, None, "Error validating client secret.", false, None),
        ];
        for &(code, sub, ty, msg, app, want) in rows {
            assert_eq!(refusal(code, sub, ty, msg, app), want, "{code:?}/{sub:?} {msg}");
        }
        // A refusal is held like an auth failure and is not the token's death.
        let c = classify(Some(1), None, Some(400)).with_refusal(Some(R::AppSecret));
        assert_eq!((c.class, c.token_death), (Auth, None));
        assert_eq!(c.token_verdict(false), TokenVerdict::Refused(R::AppSecret));
        // Unknown and content codes say nothing about the token.
        assert_eq!(classify(Some(98765), None, Some(400)).token_verdict(false), TokenVerdict::Unknown);
        assert_eq!(classify(Some(100), None, Some(400)).token_verdict(false), TokenVerdict::Unknown);
        assert_eq!(
            classify(Some(25), None, Some(400)).token_verdict(false),
            TokenVerdict::Dead(TokenDeath::Invalid)
        );
    }

    #[test]
    fn top_level_codes_8_2() {
        check(&[
            (Some(1), None, Some(500), Transient, None),
            (Some(2), None, Some(503), Transient, None),
            (Some(3), None, Some(400), Auth, None),
            (Some(4), None, Some(400), RateLimit, None),
            (Some(10), None, Some(403), Auth, None),
            (Some(17), None, Some(400), RateLimit, None),
            (Some(17), Some(1349172), Some(400), RateLimit, None),
            (Some(32), None, Some(400), RateLimit, None),
            (Some(100), None, Some(400), Content, None),
            (Some(102), None, Some(400), Auth, Some(D::Invalid)),
            (Some(102), Some(460), Some(400), Auth, Some(D::PasswordChanged)),
            (Some(190), None, Some(400), Auth, Some(D::Invalid)),
            (Some(200), None, Some(403), Auth, None),
            (Some(230), None, Some(400), Auth, None),
            (Some(299), None, Some(400), Auth, None),
            (Some(341), None, Some(400), RateLimit, None),
            (Some(368), None, Some(400), Content, None),
            (Some(506), None, Some(400), Content, None),
            (Some(613), None, Some(400), RateLimit, None),
            (Some(613), Some(1996), Some(400), RateLimit, None),
            (Some(1609005), None, Some(400), Content, None),
            (Some(80000), None, Some(400), RateLimit, None),
            (Some(80001), None, Some(400), RateLimit, None),
            (Some(80002), None, Some(400), RateLimit, None),
            (Some(80003), None, Some(400), RateLimit, None),
            (Some(80004), Some(2446079), Some(400), RateLimit, None),
            (Some(80005), None, Some(400), RateLimit, None),
            (Some(80006), None, Some(400), RateLimit, None),
            (Some(80008), None, Some(400), RateLimit, None),
            (Some(80009), None, Some(400), RateLimit, None),
            (Some(80014), None, Some(400), RateLimit, None),
        ]);
    }

    #[test]
    fn token_subcodes_8_3() {
        check(&[
            (Some(190), None, Some(400), Auth, Some(D::Invalid)),
            (Some(190), Some(458), Some(400), Auth, Some(D::AppRemoved)),
            (Some(190), Some(459), Some(400), Auth, Some(D::Checkpoint)),
            (Some(190), Some(460), Some(400), Auth, Some(D::PasswordChanged)),
            (Some(190), Some(463), Some(400), Auth, Some(D::Expired)),
            (Some(190), Some(464), Some(400), Auth, Some(D::UnconfirmedUser)),
            (Some(190), Some(467), Some(400), Auth, Some(D::LoggedOut)),
            (Some(190), Some(492), Some(400), Auth, Some(D::PageRoleLost)),
            (Some(190), Some(2069032), Some(400), Auth, None),
            (Some(190), Some(12345), Some(400), Auth, Some(D::Invalid)),
        ]);
        let codes: Vec<&str> = [458, 459, 460, 463, 464, 467, 492, 1]
            .iter()
            .map(|s| TokenDeath::from_subcode(Some(*s)).finding_code())
            .collect();
        assert_eq!(
            codes,
            [
                "token_app_removed",
                "token_checkpoint",
                "token_password_changed",
                "token_expired",
                "token_unconfirmed_user",
                "token_logged_out",
                "page_role_lost",
                "token_invalid"
            ]
        );
    }

    #[test]
    fn instagram_publishing_8_4() {
        check(&[
            (Some(-2), Some(2207003), Some(400), Transient, None),
            (Some(-2), Some(2207020), Some(400), Transient, None),
            (Some(-1), Some(2207001), Some(400), Transient, None),
            (Some(-1), Some(2207032), Some(400), Transient, None),
            (Some(-1), Some(2207053), Some(400), Transient, None),
            (Some(1), Some(2207057), Some(400), Media, None),
            (Some(4), Some(2207051), Some(400), Content, None),
            (Some(9), Some(2207042), Some(400), RateLimit, None),
            (Some(9004), Some(2207052), Some(400), Media, None),
            (Some(9007), Some(2207027), Some(400), Transient, None),
            (Some(24), Some(2207006), Some(400), Content, None),
            (Some(24), Some(2207008), Some(400), Transient, None),
            (Some(24), Some(4279009), Some(400), Transient, None),
            (Some(24), Some(4279009), Some(500), Transient, None),
            (Some(25), Some(2207050), Some(400), Auth, None),
            (Some(100), Some(2207028), Some(400), Content, None),
            (Some(100), Some(2207040), Some(400), Content, None),
            (Some(36000), Some(2207004), Some(400), Media, None),
            (Some(36001), Some(2207005), Some(400), Media, None),
            (Some(36003), Some(2207009), Some(400), Media, None),
            (Some(36004), Some(2207010), Some(400), Media, None),
            (Some(36002), None, Some(400), Media, None),
            // container-status errors carry only the number inside `status` text (§8.4)
            (None, Some(2207026), None, Media, None),
            (Some(-1), Some(2207076), Some(400), Media, None),
            (Some(-1), Some(2207077), Some(400), Media, None),
            (Some(-1), Some(2207082), Some(400), Media, None),
            (Some(10), None, Some(400), Auth, None),
            (Some(10), Some(2207081), Some(400), Content, None),
            (Some(100), Some(33), Some(400), Unknown, None),
            (Some(12), None, Some(400), Content, None),
        ]);
    }

    #[test]
    fn other_documented_rows() {
        check(&[
            // §4.4 Pages API
            (Some(200), Some(2069030), Some(400), Content, None),
            (Some(200), Some(2069031), Some(400), Content, None),
            (Some(200), Some(2069033), Some(400), Content, None),
            (Some(1), Some(2853006), Some(400), Auth, None),
            // §1.3 code exchange, §6.1 Threads app id, §6.5 Threads errors
            (Some(100), Some(36007), Some(400), Auth, None),
            (Some(100), Some(36008), Some(400), Auth, None),
            (Some(100), Some(36009), Some(400), Auth, None),
            (Some(4476002), None, Some(400), Auth, None),
            (Some(100), Some(10), Some(400), Auth, None),
            (Some(24), None, Some(400), Transient, None),
        ]);
    }

    #[test]
    fn odd_inputs() {
        check(&[
            (Some(987654), None, Some(400), Unknown, None),
            (Some(0), None, Some(200), Unknown, None),
            (Some(400), None, Some(400), Unknown, None), // IG-Login shape "code": 400
            (None, None, Some(502), Transient, None),
            (None, None, Some(500), Transient, None),
            (None, None, Some(429), RateLimit, None),
            (None, None, Some(408), Transient, None),
            (None, None, Some(401), Auth, Some(D::Invalid)),
            (None, None, Some(404), Unknown, None),
            (None, None, None, Unknown, None),
            (None, Some(460), Some(400), Unknown, None),
        ]);
        assert!(Transient.is_retryable() && RateLimit.is_retryable());
        assert!(!Auth.is_retryable() && !Media.is_retryable() && !Content.is_retryable());
        assert!(!Unknown.is_retryable());
    }

    #[test]
    fn token_verdicts() {
        use TokenVerdict::*;
        // (code, subcode, is_transient, verdict)
        let rows: &[(i64, Option<i64>, bool, TokenVerdict)] = &[
            (190, Some(460), false, Dead(D::PasswordChanged)),
            (190, Some(460), true, Dead(D::PasswordChanged)),
            (190, Some(2069032), false, Dead(D::Invalid)),
            (102, None, false, Dead(D::Invalid)),
            (4, None, false, Throttled),
            (9, Some(2207042), false, Throttled),
            (9, None, false, Throttled),
            (17, None, true, Throttled),
            (613, None, false, Throttled),
            (80001, None, false, Throttled),
            (1, None, false, Transient),
            (2, None, false, Transient),
            (-2, Some(2207003), false, Transient),
            // Not about the token: unknown, never "invalid" (the message decides a refusal).
            (100, None, false, Unknown),
            (100, None, true, Transient),
            (10, None, false, Dead(D::Invalid)),
            (987654, None, false, Unknown),
        ];
        for &(code, sub, transient, want) in rows {
            let got = classify(Some(code), sub, Some(400)).token_verdict(transient);
            assert_eq!(got, want, "code={code} sub={sub:?} transient={transient}");
        }
        assert!(is_invalid_parameter(Some(100)) && !is_invalid_parameter(Some(10)));
        assert!(!is_invalid_parameter(None));
    }

    #[test]
    fn container_signals() {
        use ContainerSignal::*;
        let rows: &[(Option<i64>, Option<i64>, Option<ContainerSignal>)] = &[
            (Some(9007), Some(2207027), Some(NotReady)),
            (Some(9007), None, Some(NotReady)),
            (Some(24), None, Some(NotFoundYet)),
            (Some(24), Some(4279009), Some(NotFoundYet)),
            (Some(24), Some(2207008), Some(NotFoundYet)),
            (Some(24), Some(2207006), None),
            (Some(-2), Some(2207020), Some(Dead)),
            (Some(-1), Some(2207032), Some(Dead)),
            (Some(-1), Some(2207053), Some(Dead)),
            (Some(-1), Some(2207001), None),
            (Some(190), Some(460), None),
            (Some(10), None, None),
            (None, Some(2207020), None),
            (None, None, None),
        ];
        for &(code, sub, want) in rows {
            assert_eq!(container_signal(code, sub), want, "code={code:?} sub={sub:?}");
        }
    }

    #[test]
    fn publishing_quota_and_server_errors() {
        assert!(is_publishing_quota(Some(9)) && !is_publishing_quota(Some(4)) && !is_publishing_quota(None));
        assert!(is_server_error(Some(1)) && is_server_error(Some(2)));
        assert!(!is_server_error(Some(4)) && !is_server_error(None));
    }

    #[test]
    fn exchange_refusals() {
        use CodeProblem::*;
        use ExchangeRefusal::*;
        /// (code, subcode, error type, message, refusal)
        type Row<'a> = (Option<i64>, Option<i64>, Option<&'a str>, &'a str, Option<ExchangeRefusal>);
        let rows: &[Row] = &[
            (Some(100), Some(36007), Some("OAuthException"), "expired", Some(Code(Expired))),
            (Some(100), Some(36008), None, "redirect", Some(Code(RedirectUriMismatch))),
            (Some(100), Some(36009), None, "used", Some(Code(AlreadyUsed))),
            (Some(400), None, Some("OAuthException"), "Matching code was not found", Some(Code(Rejected))),
            (Some(400), None, None, "no type", None),
            (Some(100), None, None, "Invalid verification code format.", Some(Code(Rejected))),
            (Some(100), None, None, "Invalid parameter", None),
            (Some(4476002), None, None, "Invalid app id", Some(WrongThreadsAppId)),
            (Some(1), Some(4476002), None, "x", Some(WrongThreadsAppId)),
            (Some(190), Some(460), None, "x", None),
        ];
        for &(code, sub, ty, message, want) in rows {
            assert_eq!(exchange_refusal(code, sub, ty, message), want, "{code:?}/{sub:?} {message}");
        }
    }
}
