//! Who holds a claim on a post, so that a run can tell a claim whose process is gone (taken
//! over at once) from one whose process still runs (left alone until its lease runs out).
//!
//! A claim records the claiming process as `linux:<boot id>:<pid namespace>:<pid>:<start>`:
//! - the boot id (`/proc/sys/kernel/random/boot_id`) and the pid namespace
//!   (`/proc/self/ns/pid`) say whether that pid means anything here: another machine sharing
//!   the database, another container or a reboot give other values, and then only the lease
//!   decides;
//! - the start time (field 22 of `/proc/<pid>/stat`, clock ticks since boot) tells the
//!   process from a later one that got the same pid.
//!
//! Only a process that is provably gone counts as gone: any doubt (another platform, an
//! unreadable `/proc`, an identity from elsewhere) leaves the claim to its lease, which is the
//! safe direction.

/// One process, as recorded in a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessId {
    pub boot_id: String,
    pub pid_ns: String,
    pub pid: u32,
    /// Start time in clock ticks since boot.
    pub start: u64,
}

/// What `/proc/<pid>` says about a pid right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// No such process.
    Missing,
    /// A process with this pid, its start time, and whether it is a zombie (killed, not yet
    /// reaped by its parent: it runs no code any more).
    Running { start: u64, zombie: bool },
    /// `/proc` could not be read: can't tell.
    Unreadable,
}

impl ProcessId {
    const PREFIX: &'static str = "linux";

    /// The text stored in `posts.claim_process`.
    pub fn encode(&self) -> String {
        format!("{}:{}:{}:{}:{}", Self::PREFIX, self.boot_id, self.pid_ns, self.pid, self.start)
    }

    /// `None` for anything this version did not write (another platform, a later format).
    pub fn decode(s: &str) -> Option<ProcessId> {
        let mut parts = s.split(':');
        if parts.next()? != Self::PREFIX {
            return None;
        }
        let boot_id = parts.next()?.to_string();
        let pid_ns = parts.next()?.to_string();
        let pid = parts.next()?.parse().ok()?;
        let start = parts.next()?.parse().ok()?;
        if parts.next().is_some() || boot_id.is_empty() || pid_ns.is_empty() {
            return None;
        }
        Some(ProcessId { boot_id, pid_ns, pid, start })
    }

    /// This process, or `None` where the platform gives no such identity.
    pub fn current() -> Option<ProcessId> {
        let here = Here::current()?;
        let pid = std::process::id();
        let Probe::Running { start, .. } = probe(pid) else { return None };
        Some(ProcessId { boot_id: here.boot_id, pid_ns: here.pid_ns, pid, start })
    }
}

/// The machine and pid namespace this process runs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Here {
    pub boot_id: String,
    pub pid_ns: String,
}

impl Here {
    pub fn current() -> Option<Here> {
        if !cfg!(target_os = "linux") {
            return None;
        }
        let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?.trim().to_string();
        // "pid:[4026531836]"; `:` would break the encoding, so keep the number only.
        let ns = std::fs::read_link("/proc/self/ns/pid").ok()?;
        let pid_ns: String = ns.to_string_lossy().chars().filter(char::is_ascii_digit).collect();
        (!boot_id.is_empty() && !pid_ns.is_empty() && !boot_id.contains(':'))
            .then_some(Here { boot_id, pid_ns })
    }
}

/// Reads `/proc/<pid>/stat`.
pub fn probe(pid: u32) -> Probe {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => parse_stat(&stat).map_or(Probe::Unreadable, |(state, start)| Probe::Running {
            start,
            zombie: matches!(state, 'Z' | 'X' | 'x'),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Probe::Missing,
        Err(_) => Probe::Unreadable,
    }
}

/// (state, start time) from a `/proc/<pid>/stat` line. The command name (field 2) is in
/// parentheses and may itself hold spaces and parentheses, so fields are counted from the last
/// `)`: state is field 3, start time field 22 (proc(5)).
fn parse_stat(stat: &str) -> Option<(char, u64)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    let start = fields.get(19)?.parse().ok()?;
    Some((state, start))
}

/// The decision, without I/O: is the recorded process provably gone, seen from `here` with
/// `probe` of its pid?
pub fn verdict(recorded: &ProcessId, here: &Here, probe: Probe) -> bool {
    if recorded.boot_id != here.boot_id || recorded.pid_ns != here.pid_ns {
        return false;
    }
    match probe {
        Probe::Missing => true,
        Probe::Running { start, zombie } => zombie || start != recorded.start,
        Probe::Unreadable => false,
    }
}

/// Whether the process recorded in a claim (`posts.claim_process`) is provably gone.
pub fn is_gone(recorded: &str) -> bool {
    let Some(recorded) = ProcessId::decode(recorded) else { return false };
    let Some(here) = Here::current() else { return false };
    verdict(&recorded, &here, probe(recorded.pid))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(boot: &str, ns: &str, pid: u32, start: u64) -> ProcessId {
        ProcessId { boot_id: boot.into(), pid_ns: ns.into(), pid, start }
    }

    #[test]
    fn verdicts() {
        let here = Here { boot_id: "b1".into(), pid_ns: "4026531836".into() };
        let rec = id("b1", "4026531836", 4242, 1000);
        let running = |start| Probe::Running { start, zombie: false };
        // (recorded, probe, gone?)
        let rows: Vec<(ProcessId, Probe, bool)> = vec![
            (rec.clone(), Probe::Missing, true),
            (rec.clone(), running(1000), false),
            // Same pid, another process: the recorded one is gone.
            (rec.clone(), running(2000), true),
            (rec.clone(), Probe::Running { start: 1000, zombie: true }, true),
            (rec.clone(), Probe::Unreadable, false),
            // Another boot (or machine) or another pid namespace: can't tell from here.
            (id("b0", "4026531836", 4242, 1000), Probe::Missing, false),
            (id("b1", "4026532000", 4242, 1000), Probe::Missing, false),
        ];
        for (recorded, probe, gone) in rows {
            assert_eq!(verdict(&recorded, &here, probe), gone, "{recorded:?} {probe:?}");
        }
    }

    #[test]
    fn encoding_round_trips_and_refuses_the_unknown() {
        let p = id("6f1c9a1e-2b7d-4c3e-9f0a-1b2c3d4e5f60", "4026531836", 77, 123456);
        assert_eq!(ProcessId::decode(&p.encode()), Some(p.clone()));
        for bad in [
            "",
            "pid:77",
            "macos:x:y:1:2",
            "linux:b:n:x:2",
            "linux:b:n:1:-2",
            "linux:b:n:1:2:3",
            "linux::n:1:2",
            "linux:b::1:2",
        ] {
            assert_eq!(ProcessId::decode(bad), None, "{bad:?}");
        }
        assert!(!is_gone("garbage"));
    }

    #[test]
    fn stat_lines() {
        let line = "4242 (sq publish) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 3 0 987654 12345 678 \
                    18446744073709551615";
        assert_eq!(parse_stat(line), Some(('S', 987654)));
        // A command name with ") " inside.
        let odd = "7 (a) b (c) Z 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 55 0 0";
        assert_eq!(parse_stat(odd), Some(('Z', 55)));
        assert_eq!(parse_stat("7 (x) S 1"), None);
        assert_eq!(parse_stat("no parens"), None);
    }

    #[test]
    fn this_process_is_not_gone() {
        if let Some(me) = ProcessId::current() {
            assert_eq!(me.pid, std::process::id());
            assert!(!is_gone(&me.encode()));
            let mut reused = me.clone();
            reused.start += 1;
            assert!(is_gone(&reused.encode()), "same pid, other start time: another process");
        } else if cfg!(target_os = "linux") {
            panic!("Linux gives a process identity");
        }
    }
}
