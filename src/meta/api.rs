//! The typed calls sq makes (meta-platform.md §1–§7). Each one is a thin, documented wrapper
//! over [`GraphClient::send`] / [`GraphClient::get_all`] / [`GraphClient::batch`].
//!
//! Citations: §n is a section of docs/reference/meta-platform.md; spec §n of docs/reference/spec.md.

use super::batch::BatchItem;
use super::client::{AppCredentials, GraphClient, Method, Request, decode};
use super::error::MetaError;
use super::hosts::Host;
use super::paging::PAGE_LIMIT;
use super::types::{
    Business, DebugToken, InstagramMe, Me, Page, Permission, PublishingLimit, ThreadsMe, TokenResponse,
    merge_pages,
};
use crate::model::classify::{ExchangeRefusal, exchange_refusal};
use crate::secret::{AppSecret, AuthCode, Token, UserToken};
use serde_json::Value;

/// Fields sq reads from `/me/accounts` (§4.1, §4.2). `tasks` is a field of that edge only.
pub const PAGE_FIELDS: &str = "id,name,access_token,tasks,instagram_business_account{id,username}";

/// Fields sq reads from Page nodes: `/{business}/owned_pages`, `…/client_pages`, `/{page-id}`.
/// No `tasks`: it is not a Page field, and asking for it fails the whole call with #100
/// "Tried accessing nonexisting field (tasks) on node type (Page)" (§14).
pub const PAGE_NODE_FIELDS: &str = "id,name,access_token,instagram_business_account{id,username}";

/// Threads' code exchange has no `expires_in`; the token lives 1 h (§6.3).
pub const THREADS_SHORT_TOKEN_SECS: i64 = 3600;

impl GraphClient {
    // --- debug_token (§2) ---------------------------------------------------------------------

    /// Facebook `debug_token` (§2.1): `inspector` is the app token (`app_id|app_secret`, see
    /// [`AppCredentials::app_token`]) or an app developer's user token. An invalid `input` is
    /// *not* an error: it comes back with `is_valid: false` and `error` set (§2.2).
    /// `input_token` is a query parameter by Meta's design; it is never logged or shown.
    pub async fn debug_token(
        &self,
        input: &impl Token,
        inspector: &impl Token,
    ) -> Result<DebugToken, MetaError> {
        let req = self
            .request(Method::Get, Host::FacebookGraph, "debug_token")
            .secret_param("input_token", input)
            .token(inspector);
        let v = self.send(&req).await?;
        debug_data(req.endpoint(), v)
    }

    /// Many tokens at once through batches (§10), results in input order.
    pub async fn debug_tokens(
        &self,
        inputs: &[impl Token],
        inspector: &impl Token,
    ) -> Vec<Result<DebugToken, MetaError>> {
        self.debug_tokens_with(inputs, inspector, |d| d).await
    }

    /// [`debug_tokens`](Self::debug_tokens), each answer turned into what the caller keeps
    /// (`then`) as soon as its batch is back: 10,000 inspections are never all held as
    /// `DebugToken`s at once (peak memory, docs/performance.md).
    pub async fn debug_tokens_with<T, F>(
        &self,
        inputs: &[impl Token],
        inspector: &impl Token,
        then: F,
    ) -> Vec<Result<T, MetaError>>
    where
        T: Send + 'static,
        F: Fn(DebugToken) -> T + Send + Sync + 'static,
    {
        let items =
            inputs.iter().map(|t| BatchItem::get("debug_token").token_param("input_token", t)).collect();
        self.batch_with(inspector.as_secret(), items, move |v| {
            debug_data("debug_token (batched)", v).map(&then)
        })
        .await
    }

    /// Threads `debug_token` (§2.3): the inspector must be a Threads **tester's user token**
    /// of the same app; app tokens are refused there.
    pub async fn threads_debug_token(
        &self,
        input: &impl Token,
        tester: &impl Token,
    ) -> Result<DebugToken, MetaError> {
        let req = self
            .request(Method::Get, Host::ThreadsGraph, "debug_token")
            .secret_param("input_token", input)
            .token(tester);
        let v = self.send(&req).await?;
        debug_data(req.endpoint(), v)
    }

    // --- user, permissions (§3) ---------------------------------------------------------------

    pub async fn me(&self, token: &impl Token) -> Result<Me, MetaError> {
        let req =
            self.request(Method::Get, Host::FacebookGraph, "me").query("fields", "id,name").token(token);
        self.send_json(&req).await
    }

    /// `GET /me/permissions` (§3.1): granted, declined and expired permissions.
    pub async fn permissions(&self, token: &impl Token) -> Result<Vec<Permission>, MetaError> {
        let req = self.request(Method::Get, Host::FacebookGraph, "me/permissions").token(token);
        self.get_all_as(req).await
    }

    /// `DELETE /me/permissions[/{permission}]` (§3.2): one permission, or all of them (which
    /// de-authorizes the app). Meta answers `true` or `{"success": true}`; both are accepted.
    pub async fn revoke_permissions(
        &self,
        token: &impl Token,
        permission: Option<&str>,
    ) -> Result<bool, MetaError> {
        let path = match permission {
            Some(p) => format!("me/permissions/{}", url_segment(p)),
            None => "me/permissions".to_string(),
        };
        let req = self.request(Method::Delete, Host::FacebookGraph, &path).token(token);
        let v = self.send(&req).await?;
        match &v {
            Value::Bool(b) => Ok(*b),
            Value::Object(o) => match o.get("success") {
                Some(Value::Bool(b)) => Ok(*b),
                _ => Err(unexpected(req.endpoint(), "no `success` in the answer")),
            },
            _ => Err(unexpected(req.endpoint(), "neither `true` nor `{\"success\": …}`")),
        }
    }

    // --- Pages (§4) ---------------------------------------------------------------------------

    /// `/me/accounts`, every result page, `limit=100`, with tasks, Page tokens and the linked
    /// Instagram account (§4.1).
    pub async fn accounts(&self, user_token: &UserToken) -> Result<Vec<Page>, MetaError> {
        let mut all = Vec::new();
        self.accounts_by_page(user_token, |pages| all.extend(pages)).await?;
        Ok(all)
    }

    /// [`accounts`](Self::accounts), one result page at a time: `on_page` gets each page's
    /// Pages as soon as it arrives (`diagnose` inspects their tokens while the next page is
    /// on the wire, spec §8). Entries that don't decode or have no id are skipped.
    pub async fn accounts_by_page(
        &self,
        user_token: &UserToken,
        mut on_page: impl FnMut(Vec<Page>),
    ) -> Result<(), MetaError> {
        let req = self
            .request(Method::Get, Host::FacebookGraph, "me/accounts")
            .query("fields", PAGE_FIELDS)
            .query("limit", PAGE_LIMIT)
            .token(user_token);
        self.get_pages(req, |data| {
            on_page(
                data.into_iter()
                    .filter_map(|v| serde_json::from_value::<Page>(v).ok())
                    .filter(|p| !p.id.is_empty())
                    .collect(),
            )
        })
        .await
    }

    /// `/me/businesses` (needs `business_management`, §4.3).
    pub async fn businesses(&self, user_token: &UserToken) -> Result<Vec<Business>, MetaError> {
        let req = self
            .request(Method::Get, Host::FacebookGraph, "me/businesses")
            .query("fields", "id,name")
            .query("limit", PAGE_LIMIT)
            .token(user_token);
        Ok(self.get_all_as::<Business>(req).await?.into_iter().filter(|b| !b.id.is_empty()).collect())
    }

    /// Pages reached through Business Portfolios: `/{business}/owned_pages` and
    /// `/{business}/client_pages` for every business, merged and de-duplicated, preferring
    /// entries with a token (§4.3, §12.2). These list Page nodes: no tasks (§14), so the
    /// user's role on them is unknown (`Page::tasks` is `None`).
    pub async fn portfolio_pages(&self, user_token: &UserToken) -> Result<Vec<Page>, MetaError> {
        let mut lists = Vec::new();
        for b in self.businesses(user_token).await? {
            for edge in ["owned_pages", "client_pages"] {
                let req = self
                    .request(Method::Get, Host::FacebookGraph, &format!("{}/{edge}", url_segment(&b.id)))
                    .query("fields", PAGE_NODE_FIELDS)
                    .query("limit", PAGE_LIMIT)
                    .token(user_token);
                lists.push(self.get_all_as::<Page>(req).await?);
            }
        }
        Ok(merge_pages(lists))
    }

    /// One Page node (§1.5, §4.2), without `tasks` (§14); works for a granted Page that
    /// `/me/accounts` leaves out.
    pub async fn page(&self, token: &impl Token, page_id: &str) -> Result<Page, MetaError> {
        let req = self
            .request(Method::Get, Host::FacebookGraph, &url_segment(page_id))
            .query("fields", PAGE_NODE_FIELDS)
            .token(token);
        self.send_json(&req).await
    }

    // --- Facebook exchanges (§1.3, §1.4) ------------------------------------------------------

    /// Code → token, through oauth2 ([`super::oauth`]). Sent as a POST form (accepted, §1.3) so
    /// the secret and code stay out of URLs. Single-use code: not retried once sent.
    /// 36007/36008/36009 become [`MetaError::CodeExchange`].
    pub async fn exchange_facebook_code(
        &self,
        app: &AppCredentials,
        code: &AuthCode,
        redirect_uri: &str,
        code_verifier: Option<&oauth2::PkceCodeVerifier>,
    ) -> Result<TokenResponse, MetaError> {
        let form = self.request(Method::Post, Host::FacebookGraph, "oauth/access_token");
        self.exchange_code(form, app, code, redirect_uri, code_verifier).await.map_err(code_exchange_error)
    }

    /// Short-lived → long-lived user token (`fb_exchange_token`, ≈60 days, §1.4), as a POST
    /// form on the same endpoint as the code exchange. Repeatable, so retried on transient errors.
    pub async fn facebook_long_lived(
        &self,
        app: &AppCredentials,
        short: &UserToken,
    ) -> Result<TokenResponse, MetaError> {
        let req = self
            .request(Method::Post, Host::FacebookGraph, "oauth/access_token")
            .form("grant_type", "fb_exchange_token")
            .form("client_id", &app.id)
            .secret_param("client_secret", &app.secret)
            .secret_param("fb_exchange_token", short)
            .idempotent(true);
        self.send_json(&req).await
    }

    // --- Instagram Login (§5) -----------------------------------------------------------------

    /// Code → short-lived token: POST form to `api.instagram.com/oauth/access_token` (§5.2),
    /// through oauth2. Accepts `{data:[{access_token,user_id,permissions}]}` and the flat object.
    pub async fn exchange_instagram_code(
        &self,
        app: &AppCredentials,
        code: &AuthCode,
        redirect_uri: &str,
    ) -> Result<TokenResponse, MetaError> {
        let form = self.request_unversioned(Method::Post, Host::InstagramApi, "oauth/access_token");
        self.exchange_code(form, app, code, redirect_uri, None).await.map_err(code_exchange_error)
    }

    /// Short → long-lived (`ig_exchange_token`, 60 days, §5.3). The short token and
    /// `client_secret` go in the query, as Meta documents them (§14).
    pub async fn instagram_long_lived(
        &self,
        app_secret: &AppSecret,
        short: &UserToken,
    ) -> Result<TokenResponse, MetaError> {
        let req = self.long_lived_request(Host::InstagramGraph, "ig_exchange_token", app_secret, short);
        self.send_json(&req).await
    }

    /// Refresh a long-lived Instagram token (`ig_refresh_token`, §5.4: ≥ 24 h old, not expired).
    pub async fn instagram_refresh(&self, long: &UserToken) -> Result<TokenResponse, MetaError> {
        let req = self.refresh_request(Host::InstagramGraph, "ig_refresh_token", long);
        self.send_json(&req).await
    }

    /// `graph.instagram.com/{v}/me?fields=user_id,username` (§2.4, §5.2).
    pub async fn instagram_me(&self, token: &impl Token) -> Result<InstagramMe, MetaError> {
        let req = self
            .request(Method::Get, Host::InstagramGraph, "me")
            .query("fields", "id,user_id,username")
            .token(token);
        self.send_json(&req).await
    }

    // --- Threads (§6) -------------------------------------------------------------------------

    /// Code → short-lived token: POST form to `graph.threads.net/oauth/access_token` (§6.3),
    /// through oauth2.
    /// No `expires_in` comes back; it is filled with 1 h. Error 4476002 (Facebook app id used)
    /// becomes [`MetaError::WrongThreadsAppId`].
    pub async fn exchange_threads_code(
        &self,
        app: &AppCredentials,
        code: &AuthCode,
        redirect_uri: &str,
    ) -> Result<TokenResponse, MetaError> {
        let form = self.request_unversioned(Method::Post, Host::ThreadsGraph, "oauth/access_token");
        let mut t =
            self.exchange_code(form, app, code, redirect_uri, None).await.map_err(code_exchange_error)?;
        t.expires_in.get_or_insert(THREADS_SHORT_TOKEN_SECS);
        Ok(t)
    }

    /// Short → long-lived (`th_exchange_token`, 60 days, §6.4).
    pub async fn threads_long_lived(
        &self,
        app_secret: &AppSecret,
        short: &UserToken,
    ) -> Result<TokenResponse, MetaError> {
        let req = self.long_lived_request(Host::ThreadsGraph, "th_exchange_token", app_secret, short);
        self.send_json(&req).await.map_err(code_exchange_error)
    }

    /// Refresh a long-lived Threads token (`th_refresh_token`, §6.4).
    pub async fn threads_refresh(&self, long: &UserToken) -> Result<TokenResponse, MetaError> {
        let req = self.refresh_request(Host::ThreadsGraph, "th_refresh_token", long);
        self.send_json(&req).await
    }

    /// `graph.threads.net/v1.0/me?fields=id,username`.
    pub async fn threads_me(&self, token: &impl Token) -> Result<ThreadsMe, MetaError> {
        let req =
            self.request(Method::Get, Host::ThreadsGraph, "me").query("fields", "id,username").token(token);
        self.send_json(&req).await
    }

    // --- publishing limits (§7.2, §7.3) -------------------------------------------------------

    /// Instagram `content_publishing_limit`. `host` is `FacebookGraph` for Instagram via a
    /// Page, `InstagramGraph` for Instagram Login. Read `quota_total` from the answer.
    pub async fn instagram_publishing_limit(
        &self,
        host: Host,
        ig_user_id: &str,
        token: &impl Token,
    ) -> Result<PublishingLimit, MetaError> {
        let path = format!("{}/content_publishing_limit", url_segment(ig_user_id));
        let req = self.request(Method::Get, host, &path).query("fields", "quota_usage,config").token(token);
        first_data(req.endpoint(), self.send(&req).await?)
    }

    /// Threads `threads_publishing_limit` (posts and replies quotas).
    pub async fn threads_publishing_limit(
        &self,
        user_id: &str,
        token: &impl Token,
    ) -> Result<PublishingLimit, MetaError> {
        let path = format!("{}/threads_publishing_limit", url_segment(user_id));
        let req = self
            .request(Method::Get, Host::ThreadsGraph, &path)
            .query(
                "fields",
                "quota_usage,config,reply_quota_usage,reply_config,delete_quota_usage,delete_config",
            )
            .token(token);
        first_data(req.endpoint(), self.send(&req).await?)
    }

    // --- the requests Instagram Login and Threads share (§5, §6) -------------------------------

    /// Short → long-lived, `GET {host}/access_token?grant_type={grant}` (§5.3, §6.4).
    fn long_lived_request(
        &self,
        host: Host,
        grant: &str,
        app_secret: &AppSecret,
        short: &UserToken,
    ) -> Request {
        self.request_unversioned(Method::Get, host, "access_token")
            .query("grant_type", grant)
            .secret_param("client_secret", app_secret)
            .token(short)
            // §14: `access_token` is a documented required query parameter here.
            .token_in_query()
    }

    /// Refresh a long-lived token, `GET {host}/refresh_access_token?grant_type={grant}` (§5.4, §6.4).
    fn refresh_request(&self, host: Host, grant: &str, long: &UserToken) -> Request {
        self.request_unversioned(Method::Get, host, "refresh_access_token")
            .query("grant_type", grant)
            .token(long)
            // §14: `access_token` is a documented required query parameter here.
            .token_in_query()
    }
}

fn unexpected(endpoint: &str, detail: &str) -> MetaError {
    MetaError::Unexpected { endpoint: endpoint.to_string(), status: 200, detail: detail.to_string() }
}

/// The answer's `data`, taken out of it (not copied: the answer is ours).
fn take_data(mut v: Value) -> Value {
    v.get_mut("data").map(Value::take).unwrap_or(Value::Null)
}

fn debug_data(endpoint: &str, v: Value) -> Result<DebugToken, MetaError> {
    match take_data(v) {
        d @ Value::Object(_) => decode(endpoint, d),
        _ => Err(unexpected(endpoint, "no `data` object in the debug_token answer")),
    }
}

/// `data[0]` of a publishing-limit answer (§7.2, §7.3), direct or a batch item's.
pub fn first_data(endpoint: &str, v: Value) -> Result<PublishingLimit, MetaError> {
    match take_data(v) {
        Value::Array(mut list) if !list.is_empty() => decode(endpoint, list.swap_remove(0)),
        _ => Err(unexpected(endpoint, "no `data[0]` in the publishing-limit answer")),
    }
}

/// Ids and names from Meta or the user, made safe as one path segment.
fn url_segment(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20")
}

/// Turns the code-exchange failures the classifier recognizes (a refused code, the Facebook app
/// id sent to Threads) into typed variants.
pub(crate) fn code_exchange_error(e: MetaError) -> MetaError {
    let MetaError::Api { endpoint, error } = e else { return e };
    match exchange_refusal(error.code, error.subcode, error.error_type.as_deref(), &error.message) {
        Some(ExchangeRefusal::WrongThreadsAppId) => MetaError::WrongThreadsAppId { error },
        Some(ExchangeRefusal::Code(problem)) => MetaError::CodeExchange { problem, error },
        None => MetaError::Api { endpoint, error },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::error::{ApiError, interpret};
    use crate::model::classify::CodeProblem;

    fn exchange_err(status: u16, body: &str) -> MetaError {
        let e = interpret("graph.facebook.com/oauth/access_token", status, body.as_bytes(), None, None)
            .expect_err("error");
        code_exchange_error(e)
    }

    #[test]
    fn code_exchange_variants() {
        let rows: &[(&str, Option<CodeProblem>)] = &[
            (
                r#"{"error":{"message":"This authorization code has expired.","type":"OAuthException","code":100,"error_subcode":36007}}"#,
                Some(CodeProblem::Expired),
            ),
            (
                r#"{"error":{"message":"Error validating verification code.","code":100,"error_subcode":36008}}"#,
                Some(CodeProblem::RedirectUriMismatch),
            ),
            (
                r#"{"error":{"message":"This authorization code has been used.","code":100,"error_subcode":36009}}"#,
                Some(CodeProblem::AlreadyUsed),
            ),
            (
                r#"{"error_type":"OAuthException","code":400,"error_message":"Matching code was not found or was already used"}"#,
                Some(CodeProblem::Rejected),
            ),
            (
                r#"{"error":{"message":"Invalid verification code format.","code":100}}"#,
                Some(CodeProblem::Rejected),
            ),
            (r#"{"error":{"message":"(#100) Invalid parameter","code":100}}"#, None),
            // Instagram Login's shape for a wrong app secret: the secret, not the code.
            (
                r#"{"error_type":"OAuthException","code":400,"error_message":"Error validating client secret."}"#,
                None,
            ),
        ];
        for (body, want) in rows {
            match (exchange_err(400, body), want) {
                (MetaError::CodeExchange { problem, .. }, Some(w)) => assert_eq!(problem, *w, "{body}"),
                (MetaError::Api { .. }, None) => {}
                (got, w) => panic!("{body}: want {w:?}, got {got:?}"),
            }
        }
        assert!(matches!(
            exchange_err(400, r#"{"error":{"message":"Invalid app id","code":4476002}}"#),
            MetaError::WrongThreadsAppId { .. }
        ));
        assert!(matches!(
            exchange_err(400, r#"{"error":{"message":"x","code":1,"error_subcode":4476002}}"#),
            MetaError::WrongThreadsAppId { .. }
        ));
        let other = MetaError::Unreachable { host: "h".into(), reason: "r".into(), timed_out: true };
        assert!(matches!(code_exchange_error(other), MetaError::Unreachable { .. }));
        let _ = ApiError::default();
    }

    #[test]
    fn path_segments_are_escaped() {
        assert_eq!(url_segment("777"), "777");
        assert_eq!(url_segment("../x?y=1 z"), "..%2Fx%3Fy%3D1%20z");
    }
}
