//! Shared set-up of the queue benchmarks: a data directory with profiles in the database and
//! tokens in the encrypted file store (same paths and formats the `sq` binary reads).
#![allow(dead_code)]

use sq::db::{Db, LoginKind, NewConnection, NewProfile};
use sq::model::Network;
use sq::model::Via;
use sq::secret::Secret;
use sq::settings::StoreKind;
use sq::store::file::KdfParams;
use sq::store::{Account, CredentialStore, FileStore};
use std::path::Path;
use std::process::Command;

pub const PASSPHRASE: &str = "bench passphrase";
pub const DANA: &str = "100000000000001";

pub type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Facebook Pages `(id, page token)` on one login, with their tokens stored.
pub fn connect_pages(data: &Path, user_token: &str, pages: &[(String, String)]) -> Res<()> {
    let mut db = Db::open(&data.join("sq.db"))?;
    let conn = NewConnection {
        network: Network::Facebook,
        meta_user_id: DANA.into(),
        app_id: "111111111111111".into(),
        name: Some("Dana".into()),
        scopes: vec![],
        declined_scopes: vec![],
        token_expires_at: None,
        data_access_expires_at: None,
        issued_at: None,
        login_kind: LoginKind::FacebookLogin,
    };
    let profiles: Vec<NewProfile> = pages
        .iter()
        .map(|(id, _)| NewProfile {
            kind: Network::Facebook,
            remote_id: id.clone(),
            name: format!("Page {id}"),
            username: None,
            page_id: None,
            via: Via::Page,
            tasks: None,
            token_store: Some(StoreKind::File),
            token_expires_at: None,
            token_masked: None,
        })
        .collect();
    db.replace_connection_profiles(&conn, &profiles, 1)?;
    let store = FileStore::new(data.join("credentials.enc"), Secret::new(PASSPHRASE))
        .with_kdf_params(KdfParams::INSECURE_FAST_FOR_TESTS);
    store.save(&Account::user(Network::Facebook, DANA), &Secret::new(user_token))?;
    for (id, token) in pages {
        store.save(&Account::page(id), &Secret::new(token))?;
    }
    Ok(())
}

/// The `sq` binary with a clean environment pointed at `data` and the sandbox.
pub fn sq(data: &Path, base: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sq"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", data)
        .env("SQ_CONFIG_DIR", data.join("config"))
        .env("SQ_DATA_DIR", data)
        .env("SQ_CREDENTIAL_STORE", "file")
        .env("SQ_STORE_PASSPHRASE", PASSPHRASE)
        .env("SQ_NO_PROMPT", "1")
        .env("SQ_META_API_BASE", base)
        .env("SQ_FACEBOOK_APP_ID", "111111111111111")
        .env("SQ_FACEBOOK_APP_SECRET", "sandbox-facebook-secret");
    cmd
}
