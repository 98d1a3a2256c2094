//! Crash-safe file writes shared by the config file and the encrypted credential file.

use std::fs;
use std::io::Write;
use std::path::Path;

/// Random bytes in a temp file's name (hex-encoded): `.{file name}.{12 hex digits}.tmp`.
const TEMP_RANDOM_BYTES: usize = 6;

/// Writes `bytes` to `path` atomically: a temp file in the same directory, fsync, then rename,
/// so a crash or a full disk leaves either the old file or the new one, never a torn one.
/// On Unix the file gets `mode` from creation (no window where it is world-readable).
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let mut rnd = [0u8; TEMP_RANDOM_BYTES];
    getrandom::fill(&mut rnd).map_err(|e| std::io::Error::other(e.to_string()))?;
    let tmp = dir.join(format!(".{file_name}.{}.tmp", hex::encode(rnd)));
    let result = (|| {
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(mode);
        }
        #[cfg(not(unix))]
        let _ = mode;
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        // Make the rename itself durable.
        #[cfg(unix)]
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Removes the temp files [`write_atomic`] left next to `path` when it was killed before the
/// rename (exactly `.{file name}.{12 hex digits}.tmp`; nothing else is touched). Only call it
/// while holding a lock that every writer of `path` takes, or it may remove the temp file of a
/// write in progress. Returns how many were removed.
pub fn remove_stale_temps(path: &Path) -> std::io::Result<usize> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else { return Ok(0) };
    let prefix = format!(".{file_name}.");
    let mut removed = 0;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(random) = name.strip_prefix(&prefix).and_then(|rest| rest.strip_suffix(".tmp")) else {
            continue;
        };
        if random.len() == 2 * TEMP_RANDOM_BYTES
            && random.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            && entry.file_type().is_ok_and(|t| t.is_file())
        {
            fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Creates a directory (and parents) that only the owner can enter.
pub fn create_private_dir(path: &Path) -> std::io::Result<()> {
    fs::create_dir_all(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut perms = fs::metadata(path)?.permissions();
        if perms.mode() & 0o077 != 0 {
            perms.set_mode(0o700);
            fs::set_permissions(path, perms)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_files_own_temp_files_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("credentials.enc");
        write_atomic(&target, b"now", 0o600).unwrap();
        let cases = [
            (".credentials.enc.0123456789ab.tmp", true),
            (".credentials.enc.ffffffffffff.tmp", true),
            (".credentials.enc.0123456789AB.tmp", false),
            (".credentials.enc.0123456789a.tmp", false),
            (".credentials.enc.0123456789abc.tmp", false),
            (".credentials.enc.0123456789ab.tmp.keep", false),
            ("credentials.enc.0123456789ab.tmp", false),
            (".config.toml.0123456789ab.tmp", false),
            (".credentials.enc.lock.0123456789ab.tmp", false),
        ];
        for (name, _) in cases {
            fs::write(dir.path().join(name), b"x").unwrap();
        }
        let want = cases.iter().filter(|(_, gone)| *gone).count();
        assert_eq!(remove_stale_temps(&target).unwrap(), want);
        for (name, gone) in cases {
            assert_eq!(!dir.path().join(name).exists(), gone, "{name}");
        }
        assert_eq!(fs::read(&target).unwrap(), b"now");
    }
}
