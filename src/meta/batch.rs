//! Synchronous batch requests (meta-platform.md §10).
//!
//! `POST https://graph.facebook.com/{v}` with the form fields `batch=[…]`, `access_token` and
//! `include_headers=false`. Up to 50 operations per request (bigger inputs are chunked), chunks
//! sent concurrently within the client's in-flight bound, results returned in input order.
//!
//! Tokens: Graph reads a batch's top-level `access_token` from the form and requires it even
//! when every item carries its own (§10); items carry theirs inside `relative_url` (GET/DELETE)
//! or `body` (POST), because that is the only place Graph looks for per-item tokens. All of it
//! travels in the POST body, never in a URL on the wire, and nothing here is logged.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md.

use super::client::{GraphClient, Method, Request, appsecret_proof};
use super::error::{MetaError, interpret};
use super::hosts::Host;
use crate::secret::{AppSecret, Expose, Secret, Token};
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::task::JoinSet;

/// Graph's maximum operations per batch (§10).
pub const MAX_BATCH: usize = 50;

/// One operation of a batch.
#[derive(Debug, Clone)]
pub struct BatchItem {
    pub method: Method,
    /// Relative to the version, without query: `debug_token`, `777`, `me/accounts`.
    pub path: String,
    pub query: Vec<(String, String)>,
    /// Secret query/body values (`input_token`), hidden from `Debug`.
    pub secret_params: Vec<(String, Secret)>,
    pub body: Vec<(String, String)>,
    /// The item's own token (a Page token); the batch's top-level token is used otherwise.
    pub token: Option<Secret>,
    /// Not one of the requests sq sends ([`super::catalog`]): only tests of the batch machinery
    /// build such items.
    pub unlisted: bool,
}

impl BatchItem {
    pub fn new(method: Method, path: &str) -> BatchItem {
        BatchItem {
            method,
            path: path.trim_start_matches('/').to_string(),
            query: Vec::new(),
            secret_params: Vec::new(),
            body: Vec::new(),
            token: None,
            unlisted: false,
        }
    }

    /// Exempts the item from the catalog check (tests of the batch machinery only: sq sends
    /// no request that isn't in `src/meta/catalog.rs` and docs/meta-api.md).
    pub fn unlisted(mut self) -> Self {
        self.unlisted = true;
        self
    }

    pub fn get(path: &str) -> BatchItem {
        BatchItem::new(Method::Get, path)
    }

    pub fn query(mut self, key: &str, value: impl Into<String>) -> Self {
        self.query.push((key.to_string(), value.into()));
        self
    }

    pub fn secret_param(mut self, key: &str, value: &impl Expose) -> Self {
        self.secret_params.push((key.to_string(), Secret::new(value.expose())));
        self
    }

    /// A token as a secret parameter, sharing the caller's value instead of copying it: a
    /// `debug_token` batch of 10,000 Page tokens built 10,000 copies (docs/performance.md).
    pub fn token_param(mut self, key: &str, token: &impl Token) -> Self {
        self.secret_params.push((key.to_string(), token.as_secret().clone()));
        self
    }

    pub fn body(mut self, key: &str, value: impl Into<String>) -> Self {
        self.body.push((key.to_string(), value.into()));
        self
    }

    pub fn token(mut self, token: &impl Token) -> Self {
        self.token = Some(token.as_secret().clone());
        self
    }

    /// The operation's JSON (§10: `method`, `relative_url`, `body` as an urlencoded string).
    pub(crate) fn encode(&self, app_secret: Option<&AppSecret>) -> Value {
        let mut query = self.query.clone();
        let mut body = self.body.clone();
        let mut extra: Vec<(String, String)> =
            self.secret_params.iter().map(|(k, v)| (k.clone(), v.expose().to_string())).collect();
        if let Some(t) = &self.token {
            extra.push(("access_token".into(), t.expose().to_string()));
            if let Some(s) = app_secret {
                extra.push(("appsecret_proof".into(), appsecret_proof(s, t)));
            }
        }
        if self.method == Method::Post {
            body.extend(extra)
        } else {
            query.extend(extra)
        }
        let mut relative_url = self.path.clone();
        if !query.is_empty() {
            relative_url.push('?');
            relative_url.push_str(&serde_urlencoded::to_string(&query).unwrap_or_default());
        }
        let mut op = json!({"method": self.method.as_str(), "relative_url": relative_url});
        if !body.is_empty() {
            op["body"] = Value::String(serde_urlencoded::to_string(&body).unwrap_or_default());
        }
        op
    }

    fn endpoint(&self) -> String {
        format!("{} (batched)", self.path)
    }
}

/// What one entry of a batch response says.
#[derive(Debug, Clone)]
pub(crate) enum ItemOutcome<T = Value> {
    /// `null`: Meta did not finish it in time; may be retried (§10).
    Pending,
    Done(Result<T, MetaError>),
}

/// Parses the outer batch answer: an array in request order whose entries are `null` or
/// `{code, headers?, body: "<JSON as a string>"}`. Entries missing from a short array are
/// treated as pending. Errors inside items go through the same parser as any response.
pub(crate) fn parse_batch_response(
    v: &Value,
    items: &[&BatchItem],
    top_token: Option<&str>,
) -> Vec<ItemOutcome> {
    let entries = v.as_array().map(Vec::as_slice).unwrap_or(&[]);
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let secret = item.token.as_ref().map(Secret::expose).or(top_token);
            match entries.get(i) {
                None | Some(Value::Null) => ItemOutcome::Pending,
                Some(entry) => ItemOutcome::Done(parse_entry(entry, &item.endpoint(), secret)),
            }
        })
        .collect()
}

fn parse_entry(entry: &Value, endpoint: &str, secret: Option<&str>) -> Result<Value, MetaError> {
    let unexpected = |detail: &str| MetaError::Unexpected {
        endpoint: endpoint.to_string(),
        status: 200,
        detail: detail.to_string(),
    };
    let Some(obj) = entry.as_object() else { return Err(unexpected("a batch entry that is not an object")) };
    let code = obj.get("code").and_then(super::error::int).and_then(|c| u16::try_from(c).ok()).unwrap_or(200);
    let www = obj.get("headers").and_then(Value::as_array).and_then(|hs| {
        hs.iter().find_map(|h| {
            let name = h.get("name").and_then(Value::as_str)?;
            name.eq_ignore_ascii_case("www-authenticate").then(|| h.get("value").and_then(Value::as_str))?
        })
    });
    let body: Vec<u8> = match obj.get("body") {
        Some(Value::String(s)) => s.clone().into_bytes(),
        // Tolerate a body that is already JSON.
        Some(other @ (Value::Object(_) | Value::Array(_) | Value::Bool(_))) => other.to_string().into_bytes(),
        // `omit_response_on_success` items have no body.
        None | Some(Value::Null) if (200..300).contains(&code) => return Ok(Value::Null),
        _ => Vec::new(),
    };
    interpret(endpoint, code, &body, www, secret)
}

impl GraphClient {
    /// Runs `items` as synchronous batches on `graph.facebook.com` with `top_token` as the
    /// required top-level token. Returns one result per item, in input order.
    pub async fn batch(&self, top_token: &Secret, items: Vec<BatchItem>) -> Vec<Result<Value, MetaError>> {
        self.batch_with(top_token, items, Ok).await
    }

    /// [`batch`](Self::batch), with each item's answer turned into `T` by `decode` as soon as
    /// its batch request is back, so a batch of 10,000 `debug_token`s never holds 10,000
    /// JSON trees at once, only the typed answers (peak memory, docs/performance.md).
    pub async fn batch_with<T, F>(
        &self,
        top_token: &Secret,
        items: Vec<BatchItem>,
        decode: F,
    ) -> Vec<Result<T, MetaError>>
    where
        T: Send + 'static,
        F: Fn(Value) -> Result<T, MetaError> + Send + Sync + 'static,
    {
        let n = items.len();
        let items = Arc::new(items);
        let decode = Arc::new(decode);
        let mut results: Vec<Option<Result<T, MetaError>>> = (0..n).map(|_| None).collect();
        let mut last_error: Vec<Option<MetaError>> = vec![None; n];
        let mut pending: Vec<usize> = (0..n).collect();
        let size = self.limits().batch_size.clamp(1, MAX_BATCH);
        let rounds = self.limits().batch_item_retries + 1;

        for round in 0..rounds {
            if pending.is_empty() {
                break;
            }
            let mut set = JoinSet::new();
            // Only as many chunks are built as can be on the wire, and the next one when one is
            // back: a built request (its form, its batch JSON) waiting for a slot is memory, and
            // 200 of them were 12 MB of a 10,000-Page diagnose (docs/performance.md).
            let mut chunks = pending.chunks(size);
            let in_flight = self.limits().max_in_flight.max(1);
            let spawn = |set: &mut JoinSet<_>, chunk: &[usize]| {
                let (client, items, token, chunk, decode) =
                    (self.clone(), items.clone(), top_token.clone(), chunk.to_vec(), decode.clone());
                set.spawn(async move {
                    let refs: Vec<&BatchItem> = chunk.iter().filter_map(|&i| items.get(i)).collect();
                    let outcome = client.send_batch(&token, &refs).await.map(|outcomes| {
                        outcomes
                            .into_iter()
                            .map(|o| match o {
                                ItemOutcome::Pending => ItemOutcome::Pending,
                                ItemOutcome::Done(r) => ItemOutcome::Done(r.and_then(|v| decode(v))),
                            })
                            .collect::<Vec<ItemOutcome<T>>>()
                    });
                    (chunk, outcome)
                });
            };
            for chunk in chunks.by_ref().take(in_flight) {
                spawn(&mut set, chunk);
            }
            let mut next_pending = Vec::new();
            let last_round = round + 1 == rounds;
            while let Some(joined) = set.join_next().await {
                if let Some(chunk) = chunks.next() {
                    spawn(&mut set, chunk);
                }
                // A panicked task is a bug; its items stay pending and end as timed out.
                let Ok((chunk, outcome)) = joined else { continue };
                match outcome {
                    Err(e) => {
                        // The whole request failed (after the client's own retries).
                        for i in chunk {
                            results[i] = Some(Err(e.clone()));
                        }
                    }
                    Ok(outcomes) => {
                        for (i, outcome) in chunk.into_iter().zip(outcomes) {
                            let retryable_get = items.get(i).is_some_and(|it| it.method == Method::Get);
                            match outcome {
                                // §10: `null` may be retried — but only a read; an
                                // unfinished write may have happened and is the caller's
                                // to reconcile.
                                ItemOutcome::Pending if retryable_get => next_pending.push(i),
                                ItemOutcome::Pending => results[i] = Some(Err(MetaError::BatchItemTimedOut)),
                                ItemOutcome::Done(Err(e))
                                    if !last_round
                                        && retryable_get
                                        && e.class() == crate::model::classify::FailureClass::Transient =>
                                {
                                    last_error[i] = Some(e);
                                    next_pending.push(i);
                                }
                                ItemOutcome::Done(r) => results[i] = Some(r),
                            }
                        }
                    }
                }
            }
            next_pending.sort_unstable();
            pending = next_pending;
        }
        for i in pending {
            results[i] = Some(Err(last_error[i].take().unwrap_or(MetaError::BatchItemTimedOut)));
        }
        results.into_iter().map(|r| r.unwrap_or(Err(MetaError::BatchItemTimedOut))).collect()
    }

    /// One batch request of ≤ 50 items.
    async fn send_batch(
        &self,
        top_token: &Secret,
        items: &[&BatchItem],
    ) -> Result<Vec<ItemOutcome>, MetaError> {
        let app_secret = self.app().map(|a| &a.secret);
        for it in items.iter().filter(|it| !it.unlisted) {
            super::catalog::check(
                it.method,
                Host::FacebookGraph,
                &it.path,
                super::catalog::TokenIn::BatchItem,
            );
        }
        let ops: Vec<Value> = items.iter().map(|it| it.encode(app_secret)).collect();
        let url = self.endpoints().versioned(Host::FacebookGraph, "").trim_end_matches('/').to_string();
        let mut req: Request = self
            .request_at(Method::Post, Host::FacebookGraph, url)
            .form("access_token", top_token.expose())
            .form("batch", Value::Array(ops).to_string())
            .form("include_headers", "false")
            // Read-only batches may be resent; anything that writes is the caller's to reconcile.
            .idempotent(items.iter().all(|it| it.method == Method::Get));
        if let Some(s) = app_secret {
            req = req.form("appsecret_proof", appsecret_proof(s, top_token));
        }
        // The top-level token is in the form (see module docs); mask it in echoed messages.
        let answer = self.send(&req).await.map_err(|e| mask_in(e, top_token))?;
        if !answer.is_array() {
            return Err(MetaError::Unexpected {
                endpoint: req.endpoint.clone(),
                status: 200,
                detail: "a batch answer that is not a list".into(),
            });
        }
        Ok(parse_batch_response(&answer, items, Some(top_token.expose())))
    }
}

fn mask_in(e: MetaError, token: &Secret) -> MetaError {
    match e {
        MetaError::Api { endpoint, mut error } => {
            error.message = super::error::sanitize(&error.message, 300, Some(token.expose()));
            MetaError::Api { endpoint, error }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::classify::{FailureClass, TokenDeath};

    #[test]
    fn encodes_items_with_their_tokens() {
        let get = BatchItem::get("debug_token").secret_param("input_token", &Secret::new("EAAB/in put"));
        assert_eq!(
            get.encode(None),
            json!({"method":"GET","relative_url":"debug_token?input_token=EAAB%2Fin+put"})
        );
        let page = BatchItem::get("777").query("fields", "id,name").token(&Secret::new("PAGETOKEN"));
        let op = page.encode(Some(&AppSecret::new("app-secret-123")));
        let url = op["relative_url"].as_str().unwrap_or("");
        assert!(url.starts_with("777?fields=id%2Cname&access_token=PAGETOKEN&appsecret_proof="), "{url}");
        let post =
            BatchItem::new(Method::Post, "/777/feed").body("message", "hi & bye").token(&Secret::new("PT"));
        assert_eq!(
            post.encode(None),
            json!({"method":"POST","relative_url":"777/feed","body":"message=hi+%26+bye&access_token=PT"})
        );
        assert!(!format!("{get:?} {page:?}").contains("EAAB/in"));
    }

    #[test]
    fn parses_documented_response() {
        let answer: Value = serde_json::from_str(
            r#"[{"code":200,"headers":[{"name":"Content-Type","value":"text/javascript; charset=UTF-8"}],"body":"{\"id\":\"777_123\"}"},
                {"code":403,"headers":[{"name":"WWW-Authenticate","value":"OAuth \"Facebook Platform\" \"invalid_token\" \"x\""}],
                 "body":"{\"error\":{\"type\":\"OAuthException\",\"message\":\"Error validating access token\",\"code\":190,\"error_subcode\":460}}"},
                null,
                {"code":400,"body":"{\"error\":{\"message\":\"(#4) Application request limit reached\",\"code\":4}}"},
                {"code":500,"body":"<html>oops</html>"},
                {"code":200,"body":"not json"},
                {"code":200,"body":{"already":"json"}},
                {"code":200},
                "garbage"]"#,
        )
        .expect("json");
        let items: Vec<BatchItem> = (0..10).map(|i| BatchItem::get(&i.to_string())).collect();
        let refs: Vec<&BatchItem> = items.iter().collect();
        let out = parse_batch_response(&answer, &refs, None);
        assert_eq!(out.len(), 10);
        let done = |i: usize| match &out[i] {
            ItemOutcome::Done(r) => r.clone(),
            ItemOutcome::Pending => panic!("item {i} pending"),
        };
        assert_eq!(done(0).expect("ok"), json!({"id": "777_123"}));
        let e = done(1).expect_err("190");
        assert_eq!(e.token_death(), Some(TokenDeath::PasswordChanged));
        assert!(e.api().and_then(|a| a.www_authenticate.clone()).is_some());
        assert!(matches!(out[2], ItemOutcome::Pending));
        assert_eq!(done(3).expect_err("4").class(), FailureClass::RateLimit);
        assert_eq!(done(4).expect_err("500").class(), FailureClass::Transient);
        assert!(matches!(done(5), Err(MetaError::Unexpected { .. })));
        assert_eq!(done(6).expect("ok"), json!({"already": "json"}));
        assert_eq!(done(7).expect("ok"), Value::Null);
        assert!(matches!(done(8), Err(MetaError::Unexpected { .. })));
        assert!(matches!(out[9], ItemOutcome::Pending), "short answers leave items pending");

        let not_a_list = parse_batch_response(&json!({"error": 1}), &refs[..2], None);
        assert!(not_a_list.iter().all(|o| matches!(o, ItemOutcome::Pending)));
    }
}
