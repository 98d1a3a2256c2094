//! Rate-limit usage headers (meta-platform.md §9): `X-App-Usage` and
//! `X-Business-Use-Case-Usage`. Both are JSON strings of whole-number percentages of a rolling
//! budget; both are often absent ("only once enough calls have been made"), so absence and
//! garbage are normal and yield nothing.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md; spec §n of docs/reference/spec.md.

use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// spec §4: `rate_limited` is reported at or above this percentage.
pub const NEAR_LIMIT_PERCENT: f64 = 80.0;

/// `X-App-Usage`: `{"call_count":28,"total_time":25,"total_cputime":25}`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AppUsage {
    pub call_count: f64,
    pub total_time: f64,
    pub total_cputime: f64,
}

impl AppUsage {
    pub fn max_percent(&self) -> f64 {
        self.call_count.max(self.total_time).max(self.total_cputime)
    }
}

/// One entry of `X-Business-Use-Case-Usage` for one business object.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BucUsage {
    /// `pages`, `instagram`, `ads_management`, ...
    pub kind: String,
    pub call_count: f64,
    pub total_cputime: f64,
    pub total_time: f64,
    /// Converted from Meta's **minutes**.
    pub regain_after: Option<Duration>,
}

impl BucUsage {
    pub fn max_percent(&self) -> f64 {
        self.call_count.max(self.total_time).max(self.total_cputime)
    }
}

/// The usage a response reported (either header may be missing).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Usage {
    pub app: Option<AppUsage>,
    /// Keyed by business-object id (for Pages, the Page id).
    pub business: BTreeMap<String, Vec<BucUsage>>,
}

impl Usage {
    /// From the two header values; `None` when neither carried anything usable.
    pub fn parse(app_header: Option<&str>, buc_header: Option<&str>) -> Option<Usage> {
        let app = app_header.and_then(parse_app);
        let business = buc_header.map(parse_buc).unwrap_or_default();
        if app.is_none() && business.is_empty() {
            return None;
        }
        Some(Usage { app, business })
    }

    pub fn from_headers(headers: &reqwest::header::HeaderMap) -> Option<Usage> {
        let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        Usage::parse(get("x-app-usage"), get("x-business-use-case-usage"))
    }

    /// The highest percentage across every budget reported.
    pub fn max_percent(&self) -> Option<f64> {
        let app = self.app.map(|a| a.max_percent());
        let buc = self.business.values().flatten().map(BucUsage::max_percent);
        app.into_iter().chain(buc).reduce(f64::max)
    }

    /// The longest `estimated_time_to_regain_access` reported (zero means "not throttled").
    pub fn regain_after(&self) -> Option<Duration> {
        self.business.values().flatten().filter_map(|b| b.regain_after).filter(|d| !d.is_zero()).max()
    }

    /// The highest percentage for one business object (a Page id, an IG user id).
    pub fn percent_for(&self, object_id: &str) -> Option<f64> {
        self.business.get(object_id)?.iter().map(BucUsage::max_percent).reduce(f64::max)
    }

    pub fn is_near_limit(&self) -> bool {
        self.max_percent().is_some_and(|p| p >= NEAR_LIMIT_PERCENT)
    }

    /// Folds a newer report into this one: the app usage is replaced, business objects are
    /// replaced one by one (a response only reports the objects it touched).
    pub fn merge(&mut self, newer: Usage) {
        if newer.app.is_some() {
            self.app = newer.app;
        }
        self.business.extend(newer.business);
    }
}

fn num(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|f: &f64| f.is_finite() && *f >= 0.0)
}

fn parse_app(s: &str) -> Option<AppUsage> {
    let v: Value = serde_json::from_str(s).ok()?;
    let o = v.as_object()?;
    let (c, t, cpu) = (num(o.get("call_count")), num(o.get("total_time")), num(o.get("total_cputime")));
    if c.is_none() && t.is_none() && cpu.is_none() {
        return None;
    }
    Some(AppUsage {
        call_count: c.unwrap_or(0.0),
        total_time: t.unwrap_or(0.0),
        total_cputime: cpu.unwrap_or(0.0),
    })
}

fn parse_buc(s: &str) -> BTreeMap<String, Vec<BucUsage>> {
    let mut out = BTreeMap::new();
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(s) else { return out };
    for (id, entries) in map {
        // Documented as an array; tolerate a lone object.
        let list = match entries {
            Value::Array(a) => a,
            o @ Value::Object(_) => vec![o],
            _ => continue,
        };
        let parsed: Vec<BucUsage> = list
            .iter()
            .filter_map(Value::as_object)
            .map(|o| BucUsage {
                kind: o.get("type").and_then(Value::as_str).unwrap_or("").to_string(),
                call_count: num(o.get("call_count")).unwrap_or(0.0),
                total_cputime: num(o.get("total_cputime")).unwrap_or(0.0),
                total_time: num(o.get("total_time")).unwrap_or(0.0),
                // Minutes (§9); capped so a garbage value cannot overflow a Duration.
                regain_after: num(o.get("estimated_time_to_regain_access"))
                    .map(|m| Duration::from_secs_f64(m.min(7.0 * 24.0 * 60.0) * 60.0)),
            })
            .collect();
        if !parsed.is_empty() {
            out.insert(id, parsed);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_examples() {
        let u = Usage::parse(
            Some(r#"{"call_count":28,"total_time":25,"total_cputime":25}"#),
            Some(
                r#"{"777":[{"type":"pages","call_count":97,"total_cputime":23,"total_time":23,"estimated_time_to_regain_access":0}]}"#,
            ),
        )
        .expect("usage");
        assert_eq!(u.app, Some(AppUsage { call_count: 28.0, total_time: 25.0, total_cputime: 25.0 }));
        assert_eq!(u.max_percent(), Some(97.0));
        assert_eq!(u.percent_for("777"), Some(97.0));
        assert_eq!(u.percent_for("888"), None);
        assert_eq!(u.regain_after(), None);
        assert!(u.is_near_limit());
    }

    #[test]
    fn regain_minutes_and_multiple_objects() {
        let u = Usage::parse(
            None,
            Some(
                r#"{"1":[{"type":"pages","call_count":"100","estimated_time_to_regain_access":5}],
                    "2":[{"type":"instagram","call_count":10,"total_time":12.5,"estimated_time_to_regain_access":2},
                         {"type":"pages","call_count":1}],
                    "3":{"type":"pages","call_count":50}}"#,
            ),
        )
        .expect("usage");
        assert_eq!(u.regain_after(), Some(Duration::from_secs(300)));
        assert_eq!(u.percent_for("2"), Some(12.5));
        assert_eq!(u.percent_for("3"), Some(50.0));
        assert_eq!(u.max_percent(), Some(100.0));
    }

    #[test]
    fn absence_and_garbage() {
        let rows: [(Option<&str>, Option<&str>); 8] = [
            (None, None),
            (Some(""), Some("")),
            (Some("not json"), Some("{{{")),
            (Some("[]"), Some("[]")),
            (Some("{}"), Some("{}")),
            (Some(r#"{"call_count":"lots"}"#), Some(r#"{"1":5}"#)),
            (Some(r#"{"call_count":-3}"#), Some(r#"{"1":[7,"x"]}"#)),
            (Some("null"), Some("null")),
        ];
        for (a, b) in rows {
            assert_eq!(Usage::parse(a, b), None, "{a:?} {b:?}");
        }
        let u = Usage::parse(None, Some(r#"{"1":[{"estimated_time_to_regain_access":1e300}]}"#)).expect("u");
        assert_eq!(u.regain_after(), Some(Duration::from_secs(7 * 24 * 3600)));
        assert!(!u.is_near_limit());
    }

    #[test]
    fn merge_keeps_latest_per_object() {
        let mut u =
            Usage::parse(Some(r#"{"call_count":90}"#), Some(r#"{"1":[{"call_count":90}]}"#)).expect("u");
        u.merge(Usage::parse(None, Some(r#"{"2":[{"call_count":5}]}"#)).expect("u"));
        assert_eq!(u.percent_for("1"), Some(90.0));
        assert_eq!(u.app.map(|a| a.call_count), Some(90.0));
        u.merge(Usage::parse(Some(r#"{"call_count":3}"#), Some(r#"{"1":[{"call_count":1}]}"#)).expect("u"));
        assert_eq!(u.max_percent(), Some(5.0));
    }
}
