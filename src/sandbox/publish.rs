//! Publishing (§7): Facebook Page feed/photos, Instagram containers (both logins), Threads.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md.

use serde_json::{Map, Value, json};

use super::graph::{Caller, iso_time, page_slice, resolve_me};
use super::scenario::TokenKind;
use super::wire::{ApiError, ApiResult, Req, Resp, fields_or, has_field};
use super::world::{Container, ContainerState, DAY, Family, Published, World};

fn page_publish_check(w: &World, caller: &Caller, page: &str) -> Result<(), ApiError> {
    // §7.1: a Page token with CREATE_CONTENT is required; a user token gets (#200).
    let need = || {
        ApiError::oauth(
            200,
            None,
            "(#200) If posting to a page, requires both pages_read_engagement and pages_manage_posts as an admin with sufficient administrative permission",
        )
    };
    let t = match caller {
        Caller::Token(_, t) => t,
        Caller::App => return Err(need()),
    };
    if t.kind != TokenKind::Page || t.page.as_deref() != Some(page) {
        return Err(need());
    }
    if !t.covers("pages_manage_posts", page) {
        return Err(need());
    }
    let can =
        w.tasks_of(&t.user, page).is_some_and(|ts| ts.iter().any(|x| x == "CREATE_CONTENT" || x == "MANAGE"));
    if !can {
        return Err(ApiError::oauth(
            200,
            None,
            "(#200) The user does not have the CREATE_CONTENT task on this Page, so the app can't publish as it.",
        ));
    }
    Ok(())
}

fn duplicate(w: &World, page: &str, text: &str) -> bool {
    let since = w.now() - w.scenario.settings.duplicate_window_secs;
    !text.is_empty()
        && w.published.iter().any(|p| {
            p.network == Family::Facebook && p.profile == page && p.text == text && p.created_time >= since
        })
}

pub fn page_feed_post(w: &mut World, req: &Req, caller: &Caller, page: &str) -> ApiResult {
    page_publish_check(w, caller, page)?;
    let message = req.param("message").unwrap_or("").to_string();
    let link = req.param("link").map(str::to_string);
    if message.is_empty() && link.is_none() {
        return Err(ApiError::oauth(100, None, "(#100) Missing message or attachment"));
    }
    if duplicate(w, page, &message) {
        return Err(ApiError::oauth(506, None, "(#506) Duplicate status message"));
    }
    let n = w.new_numeric_id("1");
    let id = format!("{page}_{n}");
    let now = w.now();
    w.published.push(Published {
        network: Family::Facebook,
        profile: page.to_string(),
        id: id.clone(),
        post_id: None,
        text: message,
        link,
        media_url: None,
        created_time: now,
    });
    Ok(Resp::ok(json!({ "id": id })))
}

pub fn page_photo_post(w: &mut World, req: &Req, caller: &Caller, page: &str) -> ApiResult {
    page_publish_check(w, caller, page)?;
    let Some(url) = req.param("url").map(str::to_string) else {
        return Err(ApiError::oauth(324, None, "(#324) Requires upload file"));
    };
    if url.contains(&w.scenario.settings.broken_media_marker) {
        return Err(ApiError::oauth(324, None, "(#324) Missing or invalid image file"));
    }
    let text = req.param("caption").or_else(|| req.param("message")).unwrap_or("").to_string();
    let published = req.param("published").is_none_or(|p| p != "false");
    if published && duplicate(w, page, &text) {
        return Err(ApiError::oauth(506, None, "(#506) Duplicate status message"));
    }
    let photo = w.new_numeric_id("2");
    if !published {
        return Ok(Resp::ok(json!({ "id": photo })));
    }
    let post = format!("{page}_{}", w.new_numeric_id("1"));
    let now = w.now();
    w.published.push(Published {
        network: Family::Facebook,
        profile: page.to_string(),
        id: photo.clone(),
        post_id: Some(post.clone()),
        text,
        link: None,
        media_url: Some(url),
        created_time: now,
    });
    Ok(Resp::ok(json!({ "id": photo, "post_id": post })))
}

/// `GET /{page-id}/feed|posts|published_posts`: the Page's posts with `message` and
/// `created_time`, newest first, for sq's reconciliation
/// (<https://developers.facebook.com/docs/graph-api/reference/page/feed/>,
/// <https://developers.facebook.com/docs/graph-api/reference/page/published_posts/>). The
/// sandbox has no visitors, so `/feed` (which also lists visitors' posts) shows the same.
pub fn page_feed_list(w: &mut World, req: &Req, caller: &Caller, page: &str) -> ApiResult {
    let ok = match caller {
        Caller::App => true,
        Caller::Token(_, t) => t.page.as_deref() == Some(page) || w.tasks_of(&t.user, page).is_some(),
    };
    if !ok {
        return Err(ApiError::no_object(&req.method, page));
    }
    let posts: Vec<&Published> =
        w.published.iter().rev().filter(|p| p.network == Family::Facebook && p.profile == page).collect();
    let ids: Vec<String> = posts.iter().map(|p| p.post_id.clone().unwrap_or_else(|| p.id.clone())).collect();
    let fields = fields_or(req, "created_time,message,id");
    let (s, e, paging) = page_slice(req, &ids);
    let data: Vec<Value> = posts[s..e]
        .iter()
        .zip(&ids[s..e])
        .map(|(p, id)| {
            let mut o = Map::new();
            if has_field(&fields, "created_time") {
                o.insert("created_time".into(), json!(iso_time(p.created_time)));
            }
            if has_field(&fields, "message") && !p.text.is_empty() {
                o.insert("message".into(), json!(p.text));
            }
            o.insert("id".into(), json!(id));
            Value::Object(o)
        })
        .collect();
    let mut out = json!({ "data": data });
    if let Some(p) = paging {
        out["paging"] = p;
    }
    Ok(Resp::ok(out))
}

// ------------------------------------------------------------------------------------------
// Instagram (§7.2): graph.instagram.com with an IG-Login token, or graph.facebook.com with a
// Facebook user or Page token whose Page is linked to the account.

/// `ads`: the call is one of those that need an ads permission for a Business Manager Page
/// (publishing, the publishing limit).
fn ig_access(
    w: &World,
    req: &Req,
    caller: &Caller,
    ig: &str,
    write: bool,
    ads: bool,
) -> Result<(), ApiError> {
    let t = match caller {
        Caller::Token(_, t) => t,
        Caller::App => return Err(ApiError::no_object(&req.method, ig)),
    };
    match t.family() {
        Family::Instagram => {
            if t.user != ig {
                return Err(ApiError::no_object(&req.method, ig));
            }
            let ok = if write {
                t.has_scope("instagram_business_content_publish") || t.has_scope("instagram_content_publish")
            } else {
                t.has_scope("instagram_business_basic") || t.has_scope("instagram_basic")
            };
            if !ok {
                return Err(ApiError::method(
                    10,
                    None,
                    "(#10) Application does not have permission for this action",
                ));
            }
            Ok(())
        }
        Family::Facebook => {
            let Some(page) = w.page_of_ig(ig) else {
                return Err(ApiError::no_object(&req.method, ig));
            };
            let reach = if t.kind == TokenKind::Page {
                t.page.as_deref() == Some(page)
            } else {
                w.tasks_of(&t.user, page).is_some()
            };
            if !reach {
                return Err(ApiError::no_object(&req.method, ig));
            }
            let scope = if write { "instagram_content_publish" } else { "instagram_basic" };
            if !t.covers(scope, ig) {
                return Err(ApiError::oauth(
                    10,
                    None,
                    format!("(#10) Requires {scope} permission to manage the object"),
                ));
            }
            // A Page the user reaches only through a Business Manager role: publishing and
            // the publishing limit also need `ads_management` or `ads_read` (§14; IG User media
            // and content_publishing_limit references,
            // https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media).
            // The wording of the refusal is ours; its code is the permission error (#10, §8).
            let via_business = w
                .pages
                .get(page)
                .is_some_and(|p| !p.roles.contains_key(&t.user) && p.portfolio_roles.contains_key(&t.user));
            if via_business && ads && !(t.has_scope("ads_management") || t.has_scope("ads_read")) {
                return Err(ApiError::oauth(
                    10,
                    None,
                    "(#10) This Page is reached through Business Manager: publishing to its Instagram account needs the ads_management or ads_read permission",
                ));
            }
            Ok(())
        }
        Family::Threads => Err(ApiError::no_object(&req.method, ig)),
    }
}

/// Advance a container: `IN_PROGRESS` until enough polls or sandbox seconds (settings).
fn container_state(w: &mut World, id: &str, poll: bool) -> Option<(ContainerState, bool)> {
    let now = w.now();
    let polls_needed = w.scenario.settings.container_polls;
    let ready_secs = w.scenario.settings.container_ready_secs;
    let c = w.containers.get_mut(id)?;
    if c.state == ContainerState::InProgress {
        if poll {
            c.polls += 1;
        }
        if c.polls > polls_needed || now - c.created_at >= ready_secs {
            c.state = ContainerState::Finished;
        }
    }
    // §7.2: not published within 24 h → EXPIRED.
    let expired =
        matches!(c.state, ContainerState::InProgress | ContainerState::Finished) && now - c.created_at >= DAY;
    Some((c.state, expired))
}

pub fn instagram_api(w: &mut World, req: &Req, caller: &Caller) -> ApiResult {
    let first = req.seg(0).ok_or_else(|| ApiError::no_object(&req.method, ""))?;
    let id = resolve_me(first, caller)?;
    let edge = req.seg(1);
    let m = req.method.as_str();
    if w.containers.get(&id).is_some_and(|c| c.family == Family::Instagram) {
        if m != "GET" || edge.is_some() {
            return Err(ApiError::no_object(m, &id));
        }
        return ig_container_get(w, req, caller, &id);
    }
    if w.ig.contains_key(&id) {
        return match (m, edge) {
            ("GET", None) => {
                ig_access(w, req, caller, &id, false, false)?;
                ig_node(w, req, &id)
            }
            ("POST", Some("media")) => ig_create(w, req, caller, &id),
            ("GET", Some("media")) => {
                ig_access(w, req, caller, &id, false, false)?;
                media_list(w, req, Family::Instagram, &id)
            }
            ("POST", Some("media_publish")) => ig_publish(w, req, caller, &id),
            ("GET", Some("content_publishing_limit")) => {
                ig_access(w, req, caller, &id, false, true)?;
                ig_limit(w, req, &id)
            }
            (_, Some(e)) => Err(ApiError::oauth(2500, None, format!("Unknown path components: /{e}"))),
            _ => Err(ApiError::no_object(m, &id)),
        };
    }
    if let Some(p) = w.published.iter().find(|p| p.network == Family::Instagram && p.id == id) {
        return Ok(Resp::ok(json!({"id": p.id, "caption": p.text,
                                   "timestamp": iso_time(p.created_time)})));
    }
    Err(ApiError::no_object(m, &id))
}

fn ig_node(w: &World, req: &Req, ig: &str) -> ApiResult {
    let fields = fields_or(req, "id");
    let a = w.ig.get(ig);
    let mut o = Map::new();
    o.insert("id".into(), json!(ig));
    if has_field(&fields, "user_id") {
        o.insert("user_id".into(), json!(ig));
    }
    if has_field(&fields, "username") {
        o.insert("username".into(), json!(a.map(|a| a.username.clone())));
    }
    if has_field(&fields, "name") {
        o.insert("name".into(), json!(a.map(|a| a.username.clone())));
    }
    if has_field(&fields, "account_type") {
        o.insert("account_type".into(), json!("BUSINESS"));
    }
    if has_field(&fields, "media_count") {
        let n = w.published.iter().filter(|p| p.network == Family::Instagram && p.profile == ig).count();
        o.insert("media_count".into(), json!(n));
    }
    Ok(Resp::ok(Value::Object(o)))
}

fn ig_create(w: &mut World, req: &Req, caller: &Caller, ig: &str) -> ApiResult {
    ig_access(w, req, caller, ig, true, true)?;
    let marker = w.scenario.settings.broken_media_marker.clone();
    let media_type = req.param("media_type").unwrap_or("IMAGE").to_ascii_uppercase();
    let (url, is_video) = match media_type.as_str() {
        "VIDEO" | "REELS" | "STORIES" => match req.param("video_url").or(req.param("image_url")) {
            Some(u) => (Some(u.to_string()), req.param("video_url").is_some()),
            None => {
                return Err(ApiError::method(100, None, "(#100) The parameter video_url is required."));
            }
        },
        "CAROUSEL" => {
            if req.param("children").is_none() {
                return Err(ApiError::method(100, None, "(#100) The parameter children is required."));
            }
            (None, false)
        }
        _ => match req.param("image_url") {
            Some(u) => (Some(u.to_string()), false),
            None => {
                return Err(ApiError::method(100, None, "(#100) The parameter image_url is required."));
            }
        },
    };
    let broken = url.as_deref().is_some_and(|u| u.contains(&marker));
    // §8.4: images are fetched at creation (9004/2207052); videos fail later in the container.
    if broken && !is_video {
        return Err(ApiError::method(
            9004,
            Some(2_207_052),
            "The media could not be fetched from the URI provided. Make sure the URI is valid and publicly accessible.",
        )
        .user("Media download has failed.", "The media could not be fetched from the URI provided."));
    }
    let id = w.new_numeric_id("1789");
    let now = w.now();
    w.containers.insert(
        id.clone(),
        Container {
            family: Family::Instagram,
            owner: ig.to_string(),
            created_at: now,
            polls: 0,
            state: if broken { ContainerState::Error } else { ContainerState::InProgress },
            text: req.param("caption").unwrap_or("").to_string(),
            media_url: url,
            published_id: None,
            not_found_answers: 0,
        },
    );
    Ok(Resp::ok(json!({ "id": id })))
}

fn ig_container_get(w: &mut World, req: &Req, caller: &Caller, id: &str) -> ApiResult {
    let owner = w.containers.get(id).map(|c| c.owner.clone()).unwrap_or_default();
    ig_access(w, req, caller, &owner, false, false)?;
    let Some((state, expired)) = container_state(w, id, true) else {
        return Err(ApiError::no_object(&req.method, id));
    };
    let (code, status) = if expired {
        ("EXPIRED", "Expired: The media container was not published within 24 hours.".to_string())
    } else {
        match state {
            ContainerState::InProgress => {
                ("IN_PROGRESS", "In Progress: Media is still being processed.".to_string())
            }
            ContainerState::Finished => {
                ("FINISHED", "Finished: Media has been uploaded and it is ready to be published.".to_string())
            }
            ContainerState::Error => {
                ("ERROR", "Error: Media upload has failed with error code 2207026".to_string())
            }
            ContainerState::Published => {
                ("PUBLISHED", "Published: Media has been successfully published.".to_string())
            }
        }
    };
    let fields = fields_or(req, "id");
    let mut o = Map::new();
    if has_field(&fields, "status_code") {
        o.insert("status_code".into(), json!(code));
    }
    if has_field(&fields, "status") {
        o.insert("status".into(), json!(status));
    }
    o.insert("id".into(), json!(id));
    Ok(Resp::ok(Value::Object(o)))
}

fn ig_publish(w: &mut World, req: &Req, caller: &Caller, ig: &str) -> ApiResult {
    ig_access(w, req, caller, ig, true, true)?;
    let Some(cid) = req.param("creation_id").map(str::to_string) else {
        return Err(ApiError::method(100, None, "(#100) The parameter creation_id is required."));
    };
    let owned = w.containers.get(&cid).is_some_and(|c| c.owner == ig && c.family == Family::Instagram);
    if !owned {
        return Err(ApiError::method(24, Some(2_207_006), "The media with the provided ID cannot be found."));
    }
    let Some((state, expired)) = container_state(w, &cid, false) else {
        return Err(ApiError::no_object(&req.method, &cid));
    };
    if expired {
        return Err(ApiError::method(
            -2,
            Some(2_207_020),
            "The media container has expired. Create a new one.",
        ));
    }
    match state {
        ContainerState::InProgress => {
            return Err(ApiError::method(9007, Some(2_207_027), "Media ID is not available")
                .user("Media not ready", "The media is not ready to be published. Please wait a moment."));
        }
        ContainerState::Error => {
            return Err(ApiError::method(
                -1,
                Some(2_207_032),
                "Create media has failed: the container is in ERROR state.",
            ));
        }
        ContainerState::Published => {
            return Err(ApiError::method(
                24,
                Some(2_207_006),
                "The media with the provided ID has already been published.",
            ));
        }
        ContainerState::Finished => {}
    }
    // §7.2: the limit is enforced on media_publish, not on container creation.
    let total = w.scenario.settings.instagram_quota_total;
    if quota_used(w, Family::Instagram, ig) >= total {
        return Err(ApiError::method(
            9,
            Some(2_207_042),
            "You reached maximum number of posts that is allowed to be published by Content Publishing API.",
        ));
    }
    Ok(publish_container(w, Family::Instagram, ig, &cid, "1792"))
}

/// The profile's publish times, which the 24-hour quota counts (§7.2, §7.3).
fn publishes<'w>(w: &'w mut World, family: Family, profile: &str) -> Option<&'w mut Vec<i64>> {
    match family {
        Family::Instagram => w.ig.get_mut(profile).map(|a| &mut a.publishes),
        Family::Threads => w.threads.get_mut(profile).map(|a| &mut a.publishes),
        Family::Facebook => None,
    }
}

fn quota_used(w: &mut World, family: Family, profile: &str) -> u32 {
    let now = w.now();
    publishes(w, family, profile).map(|p| World::quota_used(p, now)).unwrap_or(0)
}

/// Publishes a checked container: a new media id (`id_prefix`…), the container marked
/// PUBLISHED, one more post against the quota, and the post in the world's record.
fn publish_container(w: &mut World, family: Family, profile: &str, cid: &str, id_prefix: &str) -> Resp {
    let now = w.now();
    let media = w.new_numeric_id(id_prefix);
    let (text, url) = match w.containers.get_mut(cid) {
        Some(c) => {
            c.state = ContainerState::Published;
            c.published_id = Some(media.clone());
            (c.text.clone(), c.media_url.clone())
        }
        None => (String::new(), None),
    };
    if let Some(p) = publishes(w, family, profile) {
        p.push(now);
    }
    w.published.push(Published {
        network: family,
        profile: profile.to_string(),
        id: media.clone(),
        post_id: None,
        text,
        link: None,
        media_url: url,
        created_time: now,
    });
    Resp::ok(json!({ "id": media }))
}

fn ig_limit(w: &mut World, req: &Req, ig: &str) -> ApiResult {
    let total = w.scenario.settings.instagram_quota_total;
    let used = quota_used(w, Family::Instagram, ig);
    let fields = fields_or(req, "quota_usage,config");
    let mut o = Map::new();
    if has_field(&fields, "quota_usage") {
        o.insert("quota_usage".into(), json!(used));
    }
    if has_field(&fields, "config") {
        o.insert("config".into(), json!({"quota_total": total, "quota_duration": 86400}));
    }
    Ok(Resp::ok(json!({ "data": [Value::Object(o)] })))
}

fn media_list(w: &World, req: &Req, family: Family, owner: &str) -> ApiResult {
    let items: Vec<&Published> =
        w.published.iter().rev().filter(|p| p.network == family && p.profile == owner).collect();
    let ids: Vec<String> = items.iter().map(|p| p.id.clone()).collect();
    let (s, e, paging) = page_slice(req, &ids);
    let text_key = if family == Family::Threads { "text" } else { "caption" };
    let data: Vec<Value> = items[s..e]
        .iter()
        .map(|p| json!({"id": p.id, text_key: p.text, "timestamp": iso_time(p.created_time)}))
        .collect();
    let mut out = json!({ "data": data });
    if let Some(p) = paging {
        out["paging"] = p;
    }
    Ok(Resp::ok(out))
}

// ------------------------------------------------------------------------------------------
// Threads (§7.3).

fn th_access(req: &Req, caller: &Caller, user: &str, write: bool) -> Result<(), ApiError> {
    let t = match caller {
        Caller::Token(_, t) if t.family() == Family::Threads => t,
        _ => return Err(ApiError::no_object(&req.method, user)),
    };
    if t.user != user {
        return Err(ApiError::no_object(&req.method, user));
    }
    // §6.5's wording for a missing threads_basic.
    if !t.has_scope("threads_basic") {
        return Err(ApiError::method(
            100,
            Some(10),
            "This action requires the threads_basic permission. You must submit for app review, or your user must be in the list of Threads testers.",
        ));
    }
    if write && !t.has_scope("threads_content_publish") {
        return Err(ApiError::method(
            100,
            Some(10),
            "This action requires the threads_content_publish permission. You must submit for app review, or your user must be in the list of Threads testers.",
        ));
    }
    Ok(())
}

pub fn threads_api(w: &mut World, req: &Req, caller: &Caller) -> ApiResult {
    let first = req.seg(0).ok_or_else(|| ApiError::no_object(&req.method, ""))?;
    let id = resolve_me(first, caller)?;
    let edge = req.seg(1);
    let m = req.method.as_str();
    if w.containers.get(&id).is_some_and(|c| c.family == Family::Threads) {
        let owner = w.containers.get(&id).map(|c| c.owner.clone()).unwrap_or_default();
        th_access(req, caller, &owner, false)?;
        return th_container_get(w, req, &id);
    }
    if w.threads.contains_key(&id) {
        return match (m, edge) {
            ("GET", None) => {
                th_access(req, caller, &id, false)?;
                th_node(w, req, &id)
            }
            ("POST", Some("threads")) => th_create(w, req, caller, &id),
            ("GET", Some("threads")) => {
                th_access(req, caller, &id, false)?;
                media_list(w, req, Family::Threads, &id)
            }
            ("POST", Some("threads_publish")) => th_publish(w, req, caller, &id),
            ("GET", Some("threads_publishing_limit")) => {
                th_access(req, caller, &id, false)?;
                th_limit(w, req, &id)
            }
            (_, Some(e)) => Err(ApiError::oauth(2500, None, format!("Unknown path components: /{e}"))),
            _ => Err(ApiError::no_object(m, &id)),
        };
    }
    if let Some(p) = w.published.iter().find(|p| p.network == Family::Threads && p.id == id) {
        return Ok(Resp::ok(json!({"id": p.id, "text": p.text, "media_type": "TEXT_POST",
                                   "timestamp": iso_time(p.created_time)})));
    }
    Err(ApiError::no_object(m, &id))
}

fn th_node(w: &World, req: &Req, user: &str) -> ApiResult {
    let fields = fields_or(req, "id");
    let a = w.threads.get(user);
    let mut o = Map::new();
    o.insert("id".into(), json!(user));
    if has_field(&fields, "username") {
        o.insert("username".into(), json!(a.map(|a| a.username.clone())));
    }
    if has_field(&fields, "name") {
        o.insert("name".into(), json!(a.map(|a| a.username.clone())));
    }
    if has_field(&fields, "threads_profile_picture_url") {
        o.insert(
            "threads_profile_picture_url".into(),
            json!("https://scontent.cdninstagram.com/sandbox.jpg"),
        );
    }
    if has_field(&fields, "threads_biography") {
        o.insert("threads_biography".into(), json!(""));
    }
    Ok(Resp::ok(Value::Object(o)))
}

fn th_create(w: &mut World, req: &Req, caller: &Caller, user: &str) -> ApiResult {
    th_access(req, caller, user, true)?;
    let media_type = req.param("media_type").unwrap_or("TEXT").to_ascii_uppercase();
    let text = req.param("text").unwrap_or("").to_string();
    // §7.3: text ≤ 500 characters (emoji counted in UTF-8 bytes).
    let len: usize = text.chars().map(|c| if c.len_utf8() >= 4 { c.len_utf8() } else { 1 }).sum();
    if len > 500 {
        return Err(ApiError::method(100, None, "Param text must be at most 500 characters long."));
    }
    let url = match media_type.as_str() {
        "TEXT" => {
            if text.is_empty() {
                return Err(ApiError::method(100, None, "(#100) The parameter text is required."));
            }
            None
        }
        "IMAGE" => match req.param("image_url") {
            Some(u) => Some(u.to_string()),
            None => {
                return Err(ApiError::method(100, None, "(#100) The parameter image_url is required."));
            }
        },
        "VIDEO" => match req.param("video_url") {
            Some(u) => Some(u.to_string()),
            None => {
                return Err(ApiError::method(100, None, "(#100) The parameter video_url is required."));
            }
        },
        "CAROUSEL" => None,
        other => {
            return Err(ApiError::method(
                100,
                None,
                format!(
                    "(#100) Param media_type must be one of {{TEXT, IMAGE, VIDEO, CAROUSEL}}, got {other}"
                ),
            ));
        }
    };
    let broken = url.as_deref().is_some_and(|u| u.contains(&w.scenario.settings.broken_media_marker));
    let id = w.new_numeric_id("1801");
    let now = w.now();
    w.containers.insert(
        id.clone(),
        Container {
            family: Family::Threads,
            owner: user.to_string(),
            created_at: now,
            polls: 0,
            state: if broken { ContainerState::Error } else { ContainerState::InProgress },
            text,
            media_url: url,
            published_id: None,
            not_found_answers: 0,
        },
    );
    if media_type == "TEXT" && req.param("auto_publish_text") == Some("true") {
        if let Some(c) = w.containers.get_mut(&id) {
            c.state = ContainerState::Finished;
        }
        return th_do_publish(w, user, &id);
    }
    Ok(Resp::ok(json!({ "id": id })))
}

fn th_container_get(w: &mut World, req: &Req, id: &str) -> ApiResult {
    let Some((state, expired)) = container_state(w, id, true) else {
        return Err(ApiError::no_object(&req.method, id));
    };
    let is_video = w
        .containers
        .get(id)
        .is_some_and(|c| c.media_url.as_deref().is_some_and(|u| u.contains(".mp4") || u.contains(".mov")));
    let status = if expired {
        "EXPIRED"
    } else {
        match state {
            ContainerState::InProgress => "IN_PROGRESS",
            ContainerState::Finished => "FINISHED",
            ContainerState::Error => "ERROR",
            ContainerState::Published => "PUBLISHED",
        }
    };
    let fields = fields_or(req, "id");
    let mut o = Map::new();
    // §7.3: the field is `status`, not `status_code`.
    if has_field(&fields, "status") {
        o.insert("status".into(), json!(status));
    }
    if has_field(&fields, "error_message") && state == ContainerState::Error {
        o.insert(
            "error_message".into(),
            json!(if is_video { "FAILED_DOWNLOADING_VIDEO" } else { "UNKNOWN" }),
        );
    }
    o.insert("id".into(), json!(id));
    Ok(Resp::ok(Value::Object(o)))
}

/// Threads' answer to a publish of a container it can't find (yet): code 24, subcode 4279009
/// "Media Not Found", HTTP 400, as Meta sends it
/// (<https://github.com/fbsamples/threads_api/issues/70>,
/// <https://github.com/gitroomhq/postiz-app/pull/2047>).
fn th_not_found(cid: &str) -> ApiError {
    ApiError::oauth(24, Some(4_279_009), "The requested resource does not exist")
        .user("Media Not Found", &format!("The media with id {cid} cannot be found."))
}

fn th_publish(w: &mut World, req: &Req, caller: &Caller, user: &str) -> ApiResult {
    th_access(req, caller, user, true)?;
    let Some(cid) = req.param("creation_id").map(str::to_string) else {
        return Err(ApiError::method(100, None, "(#100) The parameter creation_id is required."));
    };
    let owned = w.containers.get(&cid).is_some_and(|c| c.owner == user && c.family == Family::Threads);
    let state = if owned { container_state(w, &cid, false) } else { None };
    match state {
        Some((ContainerState::Finished, false)) => {}
        // Publishing before FINISHED: 24 "does not exist" (Meta's troubleshooting page,
        // https://developers.facebook.com/docs/threads/troubleshooting), nowadays with
        // subcode 4279009.
        Some((ContainerState::InProgress, false)) => return Err(th_not_found(&cid)),
        _ => return Err(ApiError::method(24, None, "The requested resource does not exist")),
    }
    // Meta answers 24/4279009 seconds after creation even when a status read already said
    // FINISHED (Postiz saw 210 such errors about 7 s after creation:
    // https://github.com/gitroomhq/postiz-app/pull/2047; also
    // https://github.com/trypostit/trypost/pull/280): the window and the count are settings.
    let now = w.now();
    let window = w.scenario.settings.threads_not_found_secs;
    let times = w.scenario.settings.threads_not_found_publishes;
    if let Some(c) = w.containers.get_mut(&cid) {
        if now - c.created_at < window || c.not_found_answers < times {
            c.not_found_answers += 1;
            return Err(th_not_found(&cid));
        }
    }
    th_do_publish(w, user, &cid)
}

fn th_do_publish(w: &mut World, user: &str, cid: &str) -> ApiResult {
    let total = w.scenario.settings.threads_quota_total;
    if quota_used(w, Family::Threads, user) >= total {
        return Err(ApiError::method(
            9,
            None,
            "You have reached the maximum number of posts allowed in 24 hours (threads_publishing_limit).",
        ));
    }
    Ok(publish_container(w, Family::Threads, user, cid, "1802"))
}

fn th_limit(w: &mut World, req: &Req, user: &str) -> ApiResult {
    let total = w.scenario.settings.threads_quota_total;
    let used = quota_used(w, Family::Threads, user);
    let fields = fields_or(req, "quota_usage,config");
    let mut o = Map::new();
    let cfg = |t: u32| json!({"quota_total": t, "quota_duration": 86400});
    for f in &fields {
        match f.name.as_str() {
            "quota_usage" => {
                o.insert("quota_usage".into(), json!(used));
            }
            "config" => {
                o.insert("config".into(), cfg(total));
            }
            "reply_quota_usage" => {
                o.insert("reply_quota_usage".into(), json!(0));
            }
            "reply_config" => {
                o.insert("reply_config".into(), cfg(1000));
            }
            "delete_quota_usage" => {
                o.insert("delete_quota_usage".into(), json!(0));
            }
            "delete_config" => {
                o.insert("delete_config".into(), cfg(100));
            }
            "location_search_quota_usage" => {
                o.insert("location_search_quota_usage".into(), json!(0));
            }
            "location_search_config" => {
                o.insert("location_search_config".into(), cfg(500));
            }
            _ => {}
        }
    }
    Ok(Resp::ok(json!({ "data": [Value::Object(o)] })))
}
