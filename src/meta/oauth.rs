//! The three code exchanges (Facebook §1.3, Instagram Login §5.2, Threads §6.3) through the
//! `oauth2` crate, with Meta's shapes as its token-response and error-response types.
//!
//! oauth2 builds the request and reads the answer; [`GraphClient::send`] carries it, so the
//! catalog check, the bounded retries, the timeouts, the body limit and the one reading of
//! Meta's errors ([`interpret`](super::error)) apply as to every other call. An error Meta sends
//! therefore comes back through oauth2 as the client's own [`MetaError`]; [`MetaErrorResponse`]
//! reads the same shapes with the same parser for any answer oauth2 parses itself.
//!
//! The Meta-only grants (`fb_exchange_token`, `ig_exchange_token`, `th_exchange_token`, the two
//! refreshes) are not OAuth 2.0 grants oauth2 knows and stay hand-written in `api.rs`.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md.

use super::client::{AppCredentials, GraphClient, Request, strip_quoted};
use super::error::{ApiError, MetaError, parse_error_value};
use super::hosts::Host;
use super::types::TokenResponse;
use crate::secret::{AuthCode, Secret, UserToken};
use oauth2::basic::{BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenType};
use oauth2::{
    AccessToken, AuthType, AuthorizationCode, ClientId, ClientSecret, EndpointNotSet, EndpointSet,
    HttpRequest, HttpResponse, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    StandardRevocableToken, TokenUrl,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::fmt;
use std::time::Duration;

/// oauth2's client with Meta's token and error shapes, a token URL and nothing else.
type MetaOAuthClient = oauth2::Client<
    MetaErrorResponse,
    MetaTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// The form fields of a code exchange that are secret: sent as [`Request::secret_param`], so
/// `Debug` and errors never show them.
const SECRET_FIELDS: [&str; 3] = ["client_secret", "code", "code_verifier"];

// --- the token answer -------------------------------------------------------------------------

/// A code exchange's answer in any of Meta's shapes: Facebook `{access_token, token_type,
/// expires_in}` (§1.3), Instagram Login `{"data":[{access_token, user_id, permissions}]}` or the
/// same object flat (§5.2), Threads `{access_token, user_id}` (§6.3). `token_type` is often
/// missing and then read as `bearer`, which is how every one of these tokens is sent.
#[derive(Debug, Clone, Serialize)]
pub struct MetaTokenResponse {
    access_token: AccessToken,
    token_type: BasicTokenType,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_in: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "comma_list")]
    permissions: Vec<Scope>,
}

/// The fields as they come, with the lenient decoders the rest of the client uses.
#[derive(Deserialize)]
struct RawToken {
    #[serde(default, deserialize_with = "super::types::opt_string")]
    access_token: Option<String>,
    #[serde(default, deserialize_with = "super::types::opt_string")]
    token_type: Option<String>,
    #[serde(default, deserialize_with = "super::types::opt_i64")]
    expires_in: Option<i64>,
    #[serde(default, deserialize_with = "super::types::opt_string")]
    user_id: Option<String>,
    #[serde(default, deserialize_with = "super::types::string_list")]
    permissions: Vec<String>,
}

impl<'de> Deserialize<'de> for MetaTokenResponse {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let v = Value::deserialize(d)?;
        // §5.2: the documented `data` array, or the flat object some clients receive.
        let inner = match v {
            Value::Object(mut o) => match o.remove("data") {
                Some(Value::Array(a)) => a.into_iter().next().unwrap_or(Value::Null),
                Some(obj @ Value::Object(_)) => obj,
                Some(other) => {
                    o.insert("data".into(), other);
                    Value::Object(o)
                }
                None => Value::Object(o),
            },
            other => other,
        };
        let raw = RawToken::deserialize(inner).map_err(|e| D::Error::custom(strip_quoted(&e.to_string())))?;
        let access_token = raw
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| D::Error::custom("no access_token in the answer"))?;
        let token_type = match raw.token_type {
            Some(t) if !t.eq_ignore_ascii_case("bearer") => BasicTokenType::Extension(t),
            _ => BasicTokenType::Bearer,
        };
        Ok(MetaTokenResponse {
            access_token: AccessToken::new(access_token),
            token_type,
            expires_in: raw.expires_in,
            user_id: raw.user_id,
            permissions: raw.permissions.into_iter().map(Scope::new).collect(),
        })
    }
}

fn comma_list<S: Serializer>(scopes: &[Scope], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&scopes.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(","))
}

impl oauth2::TokenResponse for MetaTokenResponse {
    type TokenType = BasicTokenType;

    fn access_token(&self) -> &AccessToken {
        &self.access_token
    }

    fn token_type(&self) -> &BasicTokenType {
        &self.token_type
    }

    fn expires_in(&self) -> Option<Duration> {
        self.expires_in.and_then(|s| u64::try_from(s).ok()).map(Duration::from_secs)
    }

    /// Meta has no refresh tokens: a long-lived token is refreshed with itself (§5.4, §6.4).
    fn refresh_token(&self) -> Option<&oauth2::RefreshToken> {
        None
    }

    fn scopes(&self) -> Option<&Vec<Scope>> {
        Some(&self.permissions).filter(|p| !p.is_empty())
    }
}

impl MetaTokenResponse {
    /// sq's own [`TokenResponse`]; the token moves into a [`UserToken`] without a copy.
    pub fn into_token_response(self) -> TokenResponse {
        let token_type = match &self.token_type {
            BasicTokenType::Extension(t) => Some(t.clone()),
            _ => Some("bearer".to_string()),
        };
        TokenResponse {
            access_token: UserToken::new(self.access_token.into_secret()),
            token_type,
            expires_in: self.expires_in,
            user_id: self.user_id,
            permissions: self.permissions.into_iter().map(|p| p.to_string()).collect(),
        }
    }
}

// --- the error answer -------------------------------------------------------------------------

/// A refused exchange in either of Meta's shapes: Graph `{"error":{message, type, code,
/// error_subcode, fbtrace_id}}` (§8.1, §1.3, §6.3) or Instagram Login `{error_type, code,
/// error_message}` (§5.2), read by the same parser as every other answer, so the classifier sees
/// the same codes whichever way the answer came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaErrorResponse(pub ApiError);

impl<'de> Deserialize<'de> for MetaErrorResponse {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        // oauth2 parses an error body only for a status other than 200; Meta sends 400 for these.
        parse_error_value(&v, 400)
            .map(MetaErrorResponse)
            .ok_or_else(|| serde::de::Error::custom("not one of Meta's error shapes"))
    }
}

impl Serialize for MetaErrorResponse {
    /// The Graph shape, whichever shape it was read from.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let e = &self.0;
        let mut inner = serde_json::Map::new();
        inner.insert("message".into(), Value::from(e.message.clone()));
        let optional = [
            ("type", e.error_type.clone().map(Value::from)),
            ("code", e.code.map(Value::from)),
            ("error_subcode", e.subcode.map(Value::from)),
            ("fbtrace_id", e.fbtrace_id.clone().map(Value::from)),
        ];
        for (k, v) in optional {
            if let Some(v) = v {
                inner.insert(k.into(), v);
            }
        }
        serde_json::json!({ "error": inner }).serialize(s)
    }
}

impl fmt::Display for MetaErrorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.summary())
    }
}

impl oauth2::ErrorResponse for MetaErrorResponse {}

/// oauth2's error in the client's terms. The body oauth2 keeps with a parse error may hold a
/// token and is dropped unread.
fn meta_error(endpoint: &str, e: RequestTokenError<MetaError, MetaErrorResponse>) -> MetaError {
    match e {
        RequestTokenError::Request(e) => e,
        RequestTokenError::ServerResponse(MetaErrorResponse(error)) => {
            MetaError::Api { endpoint: endpoint.to_string(), error: Box::new(error) }
        }
        RequestTokenError::Parse(e, mut body) => {
            zeroize::Zeroize::zeroize(&mut body);
            MetaError::Unexpected {
                endpoint: endpoint.to_string(),
                status: 200,
                detail: strip_quoted(&e.inner().to_string()),
            }
        }
        RequestTokenError::Other(detail) => {
            MetaError::Unexpected { endpoint: endpoint.to_string(), status: 200, detail }
        }
    }
}

// --- the exchange -----------------------------------------------------------------------------

/// oauth2's client for one exchange. `RedirectUrl` keeps the string as given: Meta compares it
/// with the dialog's character for character (§1.6).
fn oauth_client(app: &AppCredentials, token_url: TokenUrl, redirect: RedirectUrl) -> MetaOAuthClient {
    oauth2::Client::new(ClientId::new(app.id.clone()))
        .set_client_secret(ClientSecret::new(app.secret.expose().to_string()))
        // §1.3, §5.2, §6.3: the id and secret are form fields, never an HTTP Basic header.
        .set_auth_type(AuthType::RequestBody)
        .set_token_uri(token_url)
        .set_redirect_uri(redirect)
}

/// `form` with the fields of the body oauth2 built, the secret ones as secret parameters.
/// §1.3: Facebook's documented exchange has no `grant_type` (oauth2 always writes one); only
/// Instagram Login and Threads list `grant_type=authorization_code` (§5.2, §6.3).
fn carried(form: &Request, body: &[u8]) -> Request {
    let grant_type = form.host() != Host::FacebookGraph;
    let mut out = form.clone();
    for (k, v) in url::form_urlencoded::parse(body) {
        if SECRET_FIELDS.contains(&k.as_ref()) {
            out = out.secret_param(&k, &Secret::new(v.into_owned()));
        } else if k != "grant_type" || grant_type {
            out = out.form(&k, v.into_owned());
        }
    }
    out
}

impl GraphClient {
    /// Code → token through oauth2: `form` is the request sq documents for this host (method,
    /// URL, whether a `grant_type` goes), and oauth2 fills its fields.
    pub(crate) async fn exchange_code(
        &self,
        form: Request,
        app: &AppCredentials,
        code: &AuthCode,
        redirect_uri: &str,
        code_verifier: Option<&PkceCodeVerifier>,
    ) -> Result<TokenResponse, MetaError> {
        let endpoint = form.endpoint().to_string();
        let local = |detail: &str| MetaError::Unexpected {
            endpoint: endpoint.clone(),
            status: 0,
            detail: detail.to_string(),
        };
        let token_url = TokenUrl::new(form.url.clone()).map_err(|_| local("the token URL does not parse"))?;
        let redirect = RedirectUrl::new(redirect_uri.to_string())
            .map_err(|_| local("the redirect URI does not parse"))?;
        let client = oauth_client(app, token_url, redirect);
        let mut request = client.exchange_code(AuthorizationCode::new(code.expose().to_string()));
        if let Some(v) = code_verifier {
            request = request.set_pkce_verifier(PkceCodeVerifier::new(v.secret().clone()));
        }
        let http = |req: HttpRequest| self.send_oauth(&form, req);
        request
            .request_async(&http)
            .await
            .map(MetaTokenResponse::into_token_response)
            .map_err(|e| meta_error(&endpoint, e))
    }

    /// Carries a request oauth2 built: its form goes into the documented request ([`carried`])
    /// and is sent like any other; Meta's JSON goes back to oauth2.
    async fn send_oauth(&self, form: &Request, req: HttpRequest) -> Result<HttpResponse, MetaError> {
        let mut body = req.into_body();
        let out = carried(form, &body);
        zeroize::Zeroize::zeroize(&mut body);
        let v = self.send(&out).await?;
        let bytes = serde_json::to_vec(&v).map_err(|e| MetaError::Unexpected {
            endpoint: out.endpoint().to_string(),
            status: 200,
            detail: strip_quoted(&e.to_string()),
        })?;
        oauth2::http::Response::builder()
            .status(200)
            .header(oauth2::http::header::CONTENT_TYPE, "application/json")
            .body(bytes)
            .map_err(|_| MetaError::Unexpected {
                endpoint: out.endpoint().to_string(),
                status: 200,
                detail: "could not hand the answer on".into(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::error::interpret;
    use crate::model::classify::CodeProblem;
    use oauth2::TokenResponse as _;

    type Reply = Result<TokenResponse, MetaError>;

    /// What oauth2 makes of an answer that comes straight to it (status, content type, body).
    async fn through_oauth2(status: u16, content_type: Option<&str>, body: &str) -> Reply {
        let client: MetaOAuthClient = oauth2::Client::new(ClientId::new("1234".into()))
            .set_client_secret(ClientSecret::new("s3cret".into()))
            .set_auth_type(AuthType::RequestBody)
            .set_token_uri(
                TokenUrl::new("https://graph.facebook.com/v27.0/oauth/access_token".into()).unwrap(),
            );
        let mut resp = oauth2::http::Response::builder().status(status);
        if let Some(ct) = content_type {
            resp = resp.header(oauth2::http::header::CONTENT_TYPE, ct);
        }
        let resp = resp.body(body.as_bytes().to_vec()).unwrap();
        let http = |_req: HttpRequest| {
            let resp = resp.clone();
            async move { Ok::<_, MetaError>(resp) }
        };
        client
            .exchange_code(AuthorizationCode::new("AQcode".into()))
            .request_async(&http)
            .await
            .map(MetaTokenResponse::into_token_response)
            .map_err(|e| meta_error("graph.facebook.com/oauth/access_token", e))
    }

    /// What sq makes of an answer on the wire: the client's reading of Meta's answer, then
    /// oauth2 ([`GraphClient::send_oauth`] minus the network).
    async fn through_the_client(status: u16, body: &str) -> Reply {
        let endpoint = "api.instagram.com/oauth/access_token";
        let client: MetaOAuthClient = oauth2::Client::new(ClientId::new("1234".into()))
            .set_token_uri(TokenUrl::new("https://api.instagram.com/oauth/access_token".into()).unwrap());
        let answer = interpret(endpoint, status, body.as_bytes(), None, None).map(|v| {
            oauth2::http::Response::builder()
                .status(200)
                .header(oauth2::http::header::CONTENT_TYPE, "application/json")
                .body(serde_json::to_vec(&v).unwrap())
                .unwrap()
        });
        let http = |_req: HttpRequest| {
            let answer = answer.clone();
            async move { answer }
        };
        client
            .exchange_code(AuthorizationCode::new("AQcode".into()))
            .request_async(&http)
            .await
            .map(MetaTokenResponse::into_token_response)
            .map_err(|e| super::super::api::code_exchange_error(meta_error(endpoint, e)))
    }

    /// (token, expires_in, user_id, permissions) of a successful answer.
    type Got<'a> = (&'a str, Option<i64>, Option<&'a str>, Vec<&'a str>);

    fn ok(r: &Reply) -> Got<'_> {
        let t = r.as_ref().expect("a token");
        (
            t.access_token.expose(),
            t.expires_in,
            t.user_id.as_deref(),
            t.permissions.iter().map(String::as_str).collect(),
        )
    }

    #[tokio::test]
    async fn token_shapes_table() {
        let rows: &[(&str, Got<'_>)] = &[
            // Facebook (§1.3).
            (
                r#"{"access_token":"EAABshort","token_type":"bearer","expires_in":5183944}"#,
                ("EAABshort", Some(5183944), None, vec![]),
            ),
            // Facebook without expires_in (§1.3) and with OIDC's id_token beside it (§1.7).
            (
                r#"{"access_token":"EAABx","token_type":"bearer","id_token":"a.b.c"}"#,
                ("EAABx", None, None, vec![]),
            ),
            // Instagram Login, documented `data` array (§5.2).
            (
                r#"{"data":[{"access_token":"IGAAw","user_id":"1021","permissions":"instagram_business_basic,instagram_business_content_publish"}]}"#,
                (
                    "IGAAw",
                    None,
                    Some("1021"),
                    vec!["instagram_business_basic", "instagram_business_content_publish"],
                ),
            ),
            // Instagram Login, flat, numeric user id (§5.2).
            (
                r#"{"access_token":"IGAAf","user_id":1020,"permissions":"instagram_business_basic"}"#,
                ("IGAAf", None, Some("1020"), vec!["instagram_business_basic"]),
            ),
            // Threads: no token_type, no expires_in (§6.3).
            (r#"{"access_token":"THQVJ","user_id":"1234567"}"#, ("THQVJ", None, Some("1234567"), vec![])),
            // expires_in as a numeric string.
            (r#"{"access_token":"T","expires_in":"3600"}"#, ("T", Some(3600), None, vec![])),
        ];
        for (body, want) in rows {
            for got in [
                through_oauth2(200, Some("application/json; charset=UTF-8"), body).await,
                through_the_client(200, body).await,
            ] {
                assert_eq!(ok(&got), *want, "{body}");
            }
        }
        // The oauth2 view of Meta's answer: bearer when token_type is missing, no refresh token.
        let t: MetaTokenResponse = serde_json::from_str(r#"{"access_token":"THQVJ","user_id":"1"}"#).unwrap();
        assert_eq!(t.token_type(), &BasicTokenType::Bearer);
        assert!(t.refresh_token().is_none() && t.scopes().is_none() && t.expires_in().is_none());
        assert!(!format!("{t:?}").contains("THQVJ"), "{t:?}");
    }

    #[tokio::test]
    async fn error_and_broken_answers_table() {
        let graph_36009 = r#"{"error":{"message":"This authorization code has been used.","type":"OAuthException","code":100,"error_subcode":36009,"fbtrace_id":"AbC"}}"#;
        let ig_used = r#"{"error_type":"OAuthException","code":400,"error_message":"Matching code was not found or was already used"}"#;
        let th_app = r#"{"error":{"message":"Invalid client_id","type":"OAuthException","code":4476002}}"#;
        let html = "<html><body><h1>502 Bad Gateway</h1></body></html>";
        // (status, body, what sq makes of it on the wire)
        let rows: &[(u16, &str, &str)] = &[
            (400, graph_36009, "CodeExchange AlreadyUsed"),
            (400, ig_used, "CodeExchange Rejected"),
            (400, th_app, "WrongThreadsAppId"),
            (
                400,
                r#"{"error":{"message":"Error validating client secret.","type":"OAuthException","code":1}}"#,
                "Api 1",
            ),
            (502, html, "Http 502"),
            (200, "", "Unexpected"),
            (200, html, "Unexpected"),
            (200, r#"{"token_type":"bearer","expires_in":60}"#, "Unexpected"),
            (200, r#"{"data":[]}"#, "Unexpected"),
            (200, r#"{"access_token":""}"#, "Unexpected"),
        ];
        for (status, body, want) in rows {
            let got = match through_the_client(*status, body).await {
                Err(MetaError::CodeExchange { problem: CodeProblem::AlreadyUsed, .. }) => {
                    "CodeExchange AlreadyUsed"
                }
                Err(MetaError::CodeExchange { problem: CodeProblem::Rejected, .. }) => {
                    "CodeExchange Rejected"
                }
                Err(MetaError::WrongThreadsAppId { .. }) => "WrongThreadsAppId",
                Err(MetaError::Api { error, .. }) if error.code == Some(1) => "Api 1",
                Err(MetaError::Http { status: 502, .. }) => "Http 502",
                Err(MetaError::Unexpected { .. }) => "Unexpected",
                other => panic!("{status} {body}: {other:?}"),
            };
            assert_eq!(got, *want, "{status} {body}");
        }

        // The same answers handed to oauth2 directly: Meta's shapes are read by the same parser.
        let e = through_oauth2(400, Some("application/json"), graph_36009).await.expect_err("36009");
        let MetaError::Api { error, .. } = &e else { panic!("{e:?}") };
        assert_eq!(
            (error.code, error.subcode, error.fbtrace_id.as_deref()),
            (Some(100), Some(36009), Some("AbC"))
        );
        assert!(matches!(
            super::super::api::code_exchange_error(e),
            MetaError::CodeExchange { problem: CodeProblem::AlreadyUsed, .. }
        ));
        let e = through_oauth2(400, None, ig_used).await.expect_err("ig");
        let MetaError::Api { error, .. } = &e else { panic!("{e:?}") };
        assert_eq!((error.code, error.error_type.as_deref()), (Some(400), Some("OAuthException")));
        for (status, ct, body) in [
            (502, Some("text/html"), html),
            (503, None, ""),
            (200, Some("text/html"), html),
            (200, Some("application/json"), ""),
            (200, None, r#"{"user_id":"1"}"#),
            (200, None, r#""EAAB-secret-in-a-broken-answer""#),
        ] {
            let e = through_oauth2(status, ct, body).await.expect_err("broken");
            let shown = format!("{e} {e:?}");
            assert!(matches!(e, MetaError::Unexpected { .. }), "{status} {body}: {e:?}");
            assert!(!shown.contains("secret-in"), "{shown}");
        }
    }

    /// The request on the wire is the documented one (docs/meta-api.md: `fb.code_exchange`,
    /// `ig.code_exchange`, `th.code_exchange`), whatever oauth2 writes.
    #[tokio::test]
    async fn the_wire_form_is_the_documented_one() {
        use crate::meta::client::{Limits, Method};
        use crate::meta::hosts::MetaEndpoints;
        let graph =
            GraphClient::new(reqwest::Client::new(), MetaEndpoints::default(), None, Limits::default());
        let app = AppCredentials::new("1234", crate::secret::AppSecret::new("s3cret"));
        let verifier = PkceCodeVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into());
        let rows = [
            (
                graph.request(Method::Post, Host::FacebookGraph, "oauth/access_token"),
                Some(&verifier),
                vec![("client_id", "1234"), ("redirect_uri", "https://localhost:8765/cb")],
                vec![
                    ("code", "AQcode"),
                    ("code_verifier", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
                    ("client_secret", "s3cret"),
                ],
            ),
            (
                graph.request_unversioned(Method::Post, Host::InstagramApi, "oauth/access_token"),
                None,
                vec![
                    ("grant_type", "authorization_code"),
                    ("client_id", "1234"),
                    ("redirect_uri", "https://localhost:8765/cb"),
                ],
                vec![("code", "AQcode"), ("client_secret", "s3cret")],
            ),
            (
                graph.request_unversioned(Method::Post, Host::ThreadsGraph, "oauth/access_token"),
                None,
                vec![
                    ("grant_type", "authorization_code"),
                    ("client_id", "1234"),
                    ("redirect_uri", "https://localhost:8765/cb"),
                ],
                vec![("code", "AQcode"), ("client_secret", "s3cret")],
            ),
        ];
        for (form, pkce, fields, secrets) in rows {
            let client = oauth_client(
                &app,
                TokenUrl::new(form.url.clone()).unwrap(),
                RedirectUrl::new("https://localhost:8765/cb".into()).unwrap(),
            );
            let mut request = client.exchange_code(AuthorizationCode::new("AQcode".into()));
            if let Some(v) = pkce {
                request = request.set_pkce_verifier(PkceCodeVerifier::new(v.secret().clone()));
            }
            let seen = std::sync::Mutex::new(None);
            let http = |req: HttpRequest| {
                *seen.lock().unwrap() = Some(req);
                async { Err::<HttpResponse, _>(MetaError::BatchItemTimedOut) }
            };
            let _ = request.request_async(&http).await;
            let req = seen.lock().unwrap().take().expect("oauth2 built a request");
            assert_eq!((req.method().as_str(), req.uri().to_string()), ("POST", form.url.clone()));
            assert!(req.headers().get(oauth2::http::header::AUTHORIZATION).is_none(), "no Basic header");
            let out = carried(&form, req.body());
            let got: Vec<(&str, &str)> =
                out.form.iter().flatten().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            assert_eq!(got, fields, "{}", form.endpoint());
            let got: Vec<(&str, &str)> =
                out.secret_params.iter().map(|(k, v)| (k.as_str(), v.expose())).collect();
            assert_eq!(got, secrets, "{}", form.endpoint());
            assert!(out.query.is_empty() && out.token.is_none(), "{}", form.endpoint());
            let shown = format!("{out:?}");
            assert!(!shown.contains("AQcode") && !shown.contains("s3cret"), "{shown}");
        }
    }

    #[test]
    fn error_response_round_trips_in_graph_shape() {
        let ig: MetaErrorResponse = serde_json::from_str(
            r#"{"error_type":"OAuthException","code":400,"error_message":"Matching code was not found"}"#,
        )
        .unwrap();
        assert_eq!(ig.to_string(), "(#400) Matching code was not found");
        let back: MetaErrorResponse = serde_json::from_value(serde_json::to_value(&ig).unwrap()).unwrap();
        assert_eq!((back.0.code, back.0.message.as_str()), (Some(400), "Matching code was not found"));
        assert!(serde_json::from_str::<MetaErrorResponse>(r#"{"access_token":"x"}"#).is_err());
    }
}
