//! The greeter's secret: how the screens tell the greeter's requests from the session's.
//!
//! The visitor's programs run on the same computer as the screens' loopback server, so
//! they can send it anything the greeter's browser can. At every start the agent makes a
//! random secret (256 bits) and writes it to a file that only root and the greeter's group
//! can read ([`GreeterSecret::create`]; by default `/run/commune-greeter/secret`, mode
//! 0640 `root:lightdm`, in a 0750 folder). The greeter (`commune-greeter`, run by LightDM as
//! the `lightdm` user) reads it and opens its kiosk browser on a start page, in its own
//! private profile folder, that leads to [`BOOTSTRAP_PATH`]`?cle=<secret>`: that address
//! sets the cookie [`COOKIE`] (HttpOnly, SameSite=Strict) and goes on to `/`. The secret
//! is never on a command line (`/proc/<pid>/cmdline` is readable by everyone). Other
//! programs on the computer (root's tools, the tests) may send the header [`HEADER`]
//! instead of the cookie.

use std::path::{Path, PathBuf};

/// The cookie that carries the secret in the greeter's browser.
pub const COOKIE: &str = "commune-borne";
/// The header that may carry it instead (tools, tests).
pub const HEADER: &str = "x-commune-greeter";
/// The address that turns the secret (query `cle`) into the cookie, then shows `/`.
pub const BOOTSTRAP_PATH: &str = "/borne";

/// The greeter's secret of this run of the agent.
pub struct GreeterSecret {
    value: String,
    path: PathBuf,
}

impl std::fmt::Debug for GreeterSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GreeterSecret")
            .field("path", &self.path)
            .field("value", &"<redacted>")
            .finish()
    }
}

impl GreeterSecret {
    /// Makes a new secret and writes it to `path`, readable by its owner and, when `group`
    /// names a group of this computer, by that group (0640; otherwise 0600). A missing
    /// folder is made (0750 with the group, else 0700). The file is replaced whole (a new
    /// file renamed over the old one), so the greeter never reads half a secret.
    pub fn create(path: &Path, group: Option<&str>) -> Result<GreeterSecret, String> {
        use rand::Rng as _;
        let bytes: [u8; 32] = rand::rng().random();
        let value = hex::encode(bytes);
        write_secret(path, &value, group).map_err(|e| {
            format!(
                "cannot write the greeter's secret {}: {e}; check [screens] greeter_secret",
                path.display()
            )
        })?;
        Ok(GreeterSecret {
            value,
            path: path.to_path_buf(),
        })
    }

    /// Where it was written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the secret from its file, as the greeter does.
    pub fn read(path: &Path) -> std::io::Result<String> {
        let text = std::fs::read_to_string(path)?;
        let value = text.trim();
        if value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(value.to_string())
        } else {
            Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "not a greeter secret",
            ))
        }
    }

    /// Whether `candidate` is the secret (in constant time).
    pub fn matches(&self, candidate: &str) -> bool {
        let (a, b) = (self.value.as_bytes(), candidate.trim().as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    /// The `Set-Cookie` value for the greeter's browser.
    pub(super) fn cookie(&self) -> String {
        format!("{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict", self.value)
    }
}

/// The group id of `name`, if this computer has that group.
fn group_id(name: &str) -> Option<u32> {
    #[cfg(target_os = "linux")]
    {
        match nix::unistd::Group::from_name(name) {
            Ok(Some(group)) => Some(group.gid.as_raw()),
            Ok(None) => {
                tracing::warn!(group = name, "no such group: the greeter's secret is readable by root only (set [screens] greeter_group to the greeter's group)");
                None
            }
            Err(error) => {
                tracing::warn!(group = name, %error, "cannot look the group up: the greeter's secret is readable by root only");
                None
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = name;
        None
    }
}

#[cfg(unix)]
fn write_secret(path: &Path, value: &str, group: Option<&str>) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};

    let gid = group.and_then(group_id);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(if gid.is_some() { 0o750 } else { 0o700 })
                .create(dir)?;
            if gid.is_some() {
                std::os::unix::fs::chown(dir, None, gid)?;
            }
        }
    }
    let tmp = path.with_extension("tmp");
    match std::fs::remove_file(&tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&tmp)?;
    if gid.is_some() {
        std::os::unix::fs::fchown(&file, None, gid)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o640))?;
    }
    file.write_all(value.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)
}

#[cfg(not(unix))]
fn write_secret(path: &Path, value: &str, _group: Option<&str>) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, format!("{value}\n"))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_new_secret_each_start_readable_by_the_owner_only_without_a_group() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("greeter/secret");
        let first = GreeterSecret::create(&path, None).unwrap();
        let read = GreeterSecret::read(&path).unwrap();
        assert!(first.matches(&read));
        assert!(!first.matches(&read[1..]));
        assert!(!first.matches(""));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let folder = std::fs::metadata(path.parent().unwrap()).unwrap();
        assert_eq!(folder.permissions().mode() & 0o777, 0o700);
        assert!(!format!("{first:?}").contains(&read), "Debug is redacted");

        let second = GreeterSecret::create(&path, Some("no-such-group-commune")).unwrap();
        assert!(!second.matches(&read), "a new secret at every start");
        assert!(second.matches(&GreeterSecret::read(&path).unwrap()));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "a group this computer lacks: root only");
    }
}
