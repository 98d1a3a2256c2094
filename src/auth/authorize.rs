//! Authorization URLs for the three logins, built through [`MetaEndpoints`] so the sandbox and
//! `SQ_GRAPH_VERSION` apply (meta-platform.md §1.1, §5.1, §6.2), and the permissions each kind of
//! profile needs (§3.3).
//!
//! Citations: §n is a section of docs/reference/meta-platform.md.

use super::AuthError;
use super::pkce::{PkceChallenge, State};
use super::redirect::RedirectUri;
use crate::meta::hosts::{Host, MetaEndpoints};
use crate::model::{Network, ProfileKind};
use oauth2::basic::BasicClient;
use oauth2::{AuthUrl, ClientId, RedirectUrl, Scope};

/// The three consent screens. Instagram via a Page goes through [`Login::Facebook`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Login {
    /// `www.facebook.com/{v}/dialog/oauth`, the Facebook app id.
    Facebook,
    /// `www.instagram.com/oauth/authorize`, the Instagram app id.
    InstagramLogin,
    /// `threads.com/oauth/authorize`, the Threads app id (not the Facebook one: error 4476002).
    Threads,
}

impl Login {
    /// Whose app credentials this login uses.
    pub fn network(self) -> Network {
        match self {
            Login::Facebook => Network::Facebook,
            Login::InstagramLogin => Network::Instagram,
            Login::Threads => Network::Threads,
        }
    }

    /// Only Facebook documents PKCE (§1.7, "in testing"); Instagram Login and Threads don't, so
    /// sq sends no challenge there rather than rely on undocumented behaviour.
    pub fn supports_pkce(self) -> bool {
        self == Login::Facebook
    }
}

/// The consent screen a kind of profile is authorized on.
pub trait KindLogin {
    fn login(self) -> Login;
}

impl KindLogin for ProfileKind {
    fn login(self) -> Login {
        match self {
            ProfileKind::FacebookPage | ProfileKind::InstagramViaPage => Login::Facebook,
            ProfileKind::InstagramLogin => Login::InstagramLogin,
            ProfileKind::Threads => Login::Threads,
        }
    }
}

/// Every permission the selected profiles need, then the `--scope` extras (each may be a comma
/// or space separated list), without duplicates, in a stable order: base permissions in the
/// order of [`ProfileKind::permissions`], then extras in the order given.
///
/// The kinds should all share one [`Login`]; the caller runs one flow per login.
pub fn scopes_for(kinds: &[ProfileKind], extra: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: &str| {
        if !s.is_empty() && !out.iter().any(|have| have == s) {
            out.push(s.to_string());
        }
    };
    // Walk kinds in a fixed order so the URL doesn't depend on the order profiles were named.
    for kind in [
        ProfileKind::FacebookPage,
        ProfileKind::InstagramViaPage,
        ProfileKind::InstagramLogin,
        ProfileKind::Threads,
    ] {
        if kinds.contains(&kind) {
            kind.permissions().iter().for_each(|p| push(p));
        }
    }
    for e in extra {
        e.split([',', ' ']).map(str::trim).for_each(&mut push);
    }
    out
}

/// What goes into an authorization URL besides the login.
#[derive(Debug, Clone, Copy)]
pub struct AuthorizeParams<'a> {
    /// The app id of [`Login::network`] (Threads: the Threads app id).
    pub app_id: &'a str,
    pub redirect: &'a RedirectUri,
    pub scopes: &'a [String],
    pub state: &'a State,
    /// Sent only where the login documents PKCE ([`Login::supports_pkce`]).
    pub pkce: Option<&'a PkceChallenge>,
    /// Facebook Login for Business: the login configuration, sent as `config_id` instead of
    /// `scope` (the configuration holds the permissions; meta-platform.md §1.8, §14). Ignored by
    /// the other logins.
    pub config_id: Option<&'a str>,
}

/// The URL to open in the browser, made by oauth2's authorization request. It holds no secret
/// and can be printed as is.
///
/// - Facebook: `response_type=code`, `client_id`, `state`, `code_challenge` +
///   `code_challenge_method=S256`, `redirect_uri`, `scope` (comma separated), `auth_type=rerequest`
///   (re-shows permissions declined before, and the Page picker).
/// - Instagram Login and Threads: `response_type=code`, `client_id`, `state`, `redirect_uri`,
///   `scope`.
///
/// The order is oauth2's; Meta reads the parameters by name.
pub fn authorize_url(
    endpoints: &MetaEndpoints,
    login: Login,
    p: &AuthorizeParams<'_>,
) -> Result<String, AuthError> {
    let base = match login {
        Login::Facebook => endpoints.versioned(Host::FacebookWww, "dialog/oauth"),
        Login::InstagramLogin => endpoints.url(Host::InstagramWww, "oauth/authorize"),
        Login::Threads => endpoints.url(Host::Threads, "oauth/authorize"),
    };
    let bad =
        |uri: &str, problem: &str| AuthError::BadRedirectUri { uri: uri.into(), problem: problem.into() };
    // `MetaEndpoints` holds only bases that parse as http(s) URLs, so this is not expected to fail.
    let auth_url = AuthUrl::new(base.clone()).map_err(|_| bad(&base, "Meta's dialog URL does not parse"))?;
    // `RedirectUrl` keeps the string as given: Meta compares it character for character (§1.6).
    let redirect = RedirectUrl::new(p.redirect.as_str().to_string())
        .map_err(|_| bad(p.redirect.as_str(), "it does not parse as a URL"))?;
    let client = BasicClient::new(ClientId::new(p.app_id.to_string()))
        .set_auth_uri(auth_url)
        .set_redirect_uri(redirect);
    let mut request = client.authorize_url(|| p.state.csrf_token());
    match p.config_id.filter(|_| login == Login::Facebook) {
        // §14: a Business app whose login product is FLfB needs `config_id`, which replaces
        // `scope`; sending both is not documented (§1.8), so only the configuration goes.
        Some(config) => request = request.add_extra_param("config_id", config),
        // Meta's docs write the list with commas (§1.1, §5.1, §6.2); oauth2 joins scopes with
        // spaces, so the list goes as one scope.
        None => request = request.add_scope(Scope::new(p.scopes.join(","))),
    }
    if login == Login::Facebook {
        request = request.add_extra_param("auth_type", "rerequest");
    }
    if let (true, Some(challenge)) = (login.supports_pkce(), p.pkce) {
        request = request.set_pkce_challenge(challenge.code_challenge());
    }
    Ok(in_documented_order(&base, &request.url().0))
}

/// oauth2 writes the parameters in an order of its own; the URL sq prints (and a user compares
/// with Meta's examples, which start `client_id`, `redirect_uri`:
/// https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow/) keeps the
/// order sq has always printed. The pairs themselves are oauth2's, unchanged.
fn in_documented_order(base: &str, url: &url::Url) -> String {
    const ORDER: [&str; 9] = [
        "client_id",
        "redirect_uri",
        "response_type",
        "config_id",
        "scope",
        "state",
        "auth_type",
        "code_challenge",
        "code_challenge_method",
    ];
    let mut pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    // Stable: a parameter sq doesn't know keeps its place after the known ones.
    pairs.sort_by_key(|(k, _)| ORDER.iter().position(|o| o == k).unwrap_or(ORDER.len()));
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &pairs {
        q.append_pair(k, v);
    }
    format!("{base}?{}", q.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::pkce::PkceVerifier;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn scopes_table() {
        use ProfileKind::*;
        let cases: Vec<(Vec<ProfileKind>, Vec<String>, Vec<&str>)> = vec![
            (
                vec![FacebookPage],
                vec![],
                vec!["pages_show_list", "pages_read_engagement", "pages_manage_posts", "business_management"],
            ),
            (
                vec![InstagramViaPage, FacebookPage],
                s(&["pages_manage_posts", "publish_video"]),
                vec![
                    "pages_show_list",
                    "pages_read_engagement",
                    "pages_manage_posts",
                    "business_management",
                    "instagram_basic",
                    "instagram_content_publish",
                    "publish_video",
                ],
            ),
            (
                vec![InstagramLogin],
                s(&["instagram_business_manage_comments, instagram_business_basic"]),
                vec![
                    "instagram_business_basic",
                    "instagram_business_content_publish",
                    "instagram_business_manage_comments",
                ],
            ),
            (
                vec![Threads],
                s(&["threads_manage_replies,threads_read_replies", "", "threads_basic"]),
                vec![
                    "threads_basic",
                    "threads_content_publish",
                    "threads_manage_replies",
                    "threads_read_replies",
                ],
            ),
        ];
        for (kinds, extra, want) in cases {
            assert_eq!(scopes_for(&kinds, &extra), want, "{kinds:?} {extra:?}");
        }
    }

    #[test]
    fn url_table() {
        let real = MetaEndpoints::default();
        let sandbox = MetaEndpoints::new(Some("http://127.0.0.1:9000"), Some("v25.0")).unwrap();
        let redirect = RedirectUri::parse("http://localhost:8765/callback").unwrap();
        let state = State::from_string("st4te");
        let challenge =
            PkceVerifier::from_string("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap().challenge();
        let fb = scopes_for(&[ProfileKind::FacebookPage], &[]);
        let ig = scopes_for(&[ProfileKind::InstagramLogin], &[]);
        let th = scopes_for(&[ProfileKind::Threads], &[]);
        let params = |app_id, scopes| AuthorizeParams {
            app_id,
            redirect: &redirect,
            scopes,
            state: &state,
            pkce: Some(&challenge),
            config_id: None,
        };
        let r = "redirect_uri=http%3A%2F%2Flocalhost%3A8765%2Fcallback";
        let cases = [
            (
                &real,
                Login::Facebook,
                params("1234", &fb),
                format!(
                    "https://www.facebook.com/v27.0/dialog/oauth?client_id=1234&{r}&response_type=code\
                     &scope=pages_show_list%2Cpages_read_engagement%2Cpages_manage_posts%2Cbusiness_management\
                     &state=st4te&auth_type=rerequest\
                     &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
                ),
            ),
            (
                &sandbox,
                Login::Facebook,
                AuthorizeParams { pkce: None, ..params("1234", &fb) },
                format!(
                    "http://127.0.0.1:9000/www.facebook.com/v25.0/dialog/oauth?client_id=1234&{r}\
                     &response_type=code\
                     &scope=pages_show_list%2Cpages_read_engagement%2Cpages_manage_posts%2Cbusiness_management\
                     &state=st4te&auth_type=rerequest"
                ),
            ),
            (
                &real,
                Login::InstagramLogin,
                params("9876", &ig),
                format!(
                    "https://www.instagram.com/oauth/authorize?client_id=9876&{r}&response_type=code\
                     &scope=instagram_business_basic%2Cinstagram_business_content_publish&state=st4te"
                ),
            ),
            (
                &real,
                Login::Facebook,
                AuthorizeParams { pkce: None, config_id: Some("4242"), ..params("1234", &fb) },
                format!(
                    "https://www.facebook.com/v27.0/dialog/oauth?client_id=1234&{r}&response_type=code\
                     &config_id=4242&state=st4te&auth_type=rerequest"
                ),
            ),
            (
                &sandbox,
                Login::Threads,
                AuthorizeParams { config_id: Some("4242"), ..params("5555", &th) },
                format!(
                    "http://127.0.0.1:9000/threads.com/oauth/authorize?client_id=5555&{r}&response_type=code\
                     &scope=threads_basic%2Cthreads_content_publish&state=st4te"
                ),
            ),
        ];
        for (ep, login, p, want) in cases {
            let got = authorize_url(ep, login, &p).unwrap();
            assert_eq!(got, want, "{login:?}");
            // Round-trip through a URL parser: what Meta will read.
            let parsed = url::Url::parse(&got).unwrap();
            let q: std::collections::HashMap<_, _> = parsed.query_pairs().into_owned().collect();
            assert_eq!(q["redirect_uri"], "http://localhost:8765/callback");
            assert_eq!(q["state"], "st4te");
            assert_eq!(q["response_type"], "code");
        }
    }

    #[test]
    fn logins_use_their_own_app() {
        assert_eq!(ProfileKind::Threads.login().network(), Network::Threads);
        assert_eq!(ProfileKind::InstagramViaPage.login().network(), Network::Facebook);
        assert_eq!(ProfileKind::InstagramLogin.login().network(), Network::Instagram);
        assert!(Login::Facebook.supports_pkce() && !Login::Threads.supports_pkce());
    }
}
