//! The [`Journal`] over the queue's SQLite database: each checkpoint is written (and the
//! lease extended) before the request it announces goes out, and only while this process
//! still holds the post's claim. A lost claim fails the checkpoint, so nothing is sent.

use super::{Journal, JournalError};
use crate::ctx::Clock;
use crate::db::Db;
use crate::db::queue::JournalStep;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct DbJournal {
    db: Arc<Mutex<Db>>,
    post_id: i64,
    owner: String,
    lease: Duration,
    clock: Arc<dyn Clock>,
}

impl DbJournal {
    pub fn new(
        db: Arc<Mutex<Db>>,
        post_id: i64,
        owner: &str,
        lease: Duration,
        clock: Arc<dyn Clock>,
    ) -> DbJournal {
        DbJournal { db, post_id, owner: owner.to_string(), lease, clock }
    }

    fn step(&mut self, step: JournalStep<'_>) -> Result<(), JournalError> {
        let until = self.clock.now_unix().saturating_add(self.lease.as_secs() as i64);
        // A poisoned lock only means another task panicked mid-call; SQLite itself is intact.
        let mut db = self.db.lock().unwrap_or_else(|p| p.into_inner());
        match db.journal_step(self.post_id, &self.owner, step, until) {
            Ok(true) => Ok(()),
            Ok(false) => Err(JournalError(format!(
                "this process no longer holds post {} (its claim ran out and it was taken over); nothing was sent",
                self.post_id
            ))),
            Err(e) => Err(JournalError(e.to_string())),
        }
    }
}

impl Journal for DbJournal {
    fn about_to_post(&mut self, fingerprint: &str, at: i64) -> Result<(), JournalError> {
        self.step(JournalStep::AboutToPost { fingerprint, at })
    }

    fn container_created(&mut self, container_id: &str) -> Result<(), JournalError> {
        self.step(JournalStep::ContainerCreated { container_id })
    }

    fn about_to_publish(&mut self, container_id: &str, at: i64) -> Result<(), JournalError> {
        self.step(JournalStep::AboutToPublish { container_id, at })
    }
}
