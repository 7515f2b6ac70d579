//! The key file: `dev-issuer-keys.json` in the data directory.
//!
//! Format (version 1):
//! `{"version":1,"current":"<kid>","keys":[{"kid","alg","created_at","retired_at","pkcs8"}]}`
//! where `pkcs8` is standard base64 of the PKCS#8 DER private key and times are
//! Unix seconds. Everything read from the file is checked: a bad file is an
//! [`Error::CorruptKeyFile`](crate::Error::CorruptKeyFile), never a panic.

use std::fs;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::keys::{Algorithm, SigningKey};
use crate::keyset::{KeySet, StoredKey};

pub(crate) const FILE_NAME: &str = "dev-issuer-keys.json";
const FORMAT_VERSION: u32 = 1;
/// A real file holds a few keys of ~1.7 KiB each; anything far larger is not ours.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    version: u32,
    current: String,
    keys: Vec<KeyEntry>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyEntry {
    kid: String,
    alg: Algorithm,
    created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retired_at: Option<i64>,
    pkcs8: String,
}

pub(crate) fn path_in(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

/// Reads the key file; `Ok(None)` when it does not exist yet.
pub(crate) fn load(path: &Path) -> Result<Option<KeySet>, Error> {
    let file = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("open", path, e)),
    };
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io("read", path, e))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Error::corrupt(path, "larger than 1 MiB"));
    }
    tighten_permissions(path)?;
    parse(path, &bytes).map(Some)
}

fn parse(path: &Path, bytes: &[u8]) -> Result<KeySet, Error> {
    let file: KeyFile = serde_json::from_slice(bytes).map_err(|e| {
        // Data errors quote the offending value, which may be key material:
        // name the place, not the content.
        let what = match e.classify() {
            serde_json::error::Category::Data => "a field is missing, unknown or of the wrong type",
            _ => "not valid JSON",
        };
        Error::corrupt(
            path,
            format!("{what} at line {}, column {}", e.line(), e.column()),
        )
    })?;
    if file.version != FORMAT_VERSION {
        return Err(Error::corrupt(
            path,
            format!(
                "format version {} is not supported (expected {FORMAT_VERSION})",
                file.version
            ),
        ));
    }
    let mut current = None;
    let mut previous = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, entry) in file.keys.into_iter().enumerate() {
        if !seen.insert(entry.kid.clone()) {
            return Err(Error::corrupt(path, format!("key {i}: duplicate kid")));
        }
        let der = STANDARD
            .decode(entry.pkcs8.as_bytes())
            .map_err(|e| Error::corrupt(path, format!("key {i}: pkcs8 is not base64: {e}")))?;
        let key = SigningKey::from_pkcs8(entry.alg, der, entry.created_at)
            .map_err(|e| Error::corrupt(path, format!("key {i}: {}", e.0)))?;
        // The kid is derived from the key; a mismatch means the file was edited
        // by hand and tokens would name a kid the JWKS does not serve.
        if key.kid() != entry.kid {
            return Err(Error::corrupt(
                path,
                format!("key {i}: stored kid does not match the key"),
            ));
        }
        let stored = StoredKey::new(key, entry.retired_at);
        if stored.key.kid() == file.current {
            current = Some(stored);
        } else {
            previous.push(stored);
        }
    }
    let current =
        current.ok_or_else(|| Error::corrupt(path, "the current kid names no key in the file"))?;
    Ok(KeySet::new(current, previous))
}

fn render(keys: &KeySet) -> Vec<u8> {
    let entries = std::iter::once(&keys.current)
        .chain(keys.previous.iter())
        .map(|k| KeyEntry {
            kid: k.key.kid().to_owned(),
            alg: k.key.alg(),
            created_at: k.key.created_at(),
            retired_at: k.retired_at,
            pkcs8: STANDARD.encode(k.key.pkcs8()),
        })
        .collect();
    let file = KeyFile {
        version: FORMAT_VERSION,
        current: keys.current.key.kid().to_owned(),
        keys: entries,
    };
    // Serialising plain strings and integers cannot fail.
    let mut out = serde_json::to_vec_pretty(&file).unwrap_or_default();
    out.push(b'\n');
    out
}

/// Writes `keys` to a fresh private temporary file beside `path`, returning its name.
fn write_temp(path: &Path, keys: &KeySet) -> Result<PathBuf, Error> {
    let tmp = path.with_file_name(format!(
        ".{FILE_NAME}.{}.{}.tmp",
        std::process::id(),
        uuid::Uuid::now_v7().simple()
    ));
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        // Created private: there is never a moment when the key is readable by others.
        opts.mode(0o600);
    }
    let result = (|| {
        let mut f = opts.open(&tmp)?;
        f.write_all(&render(keys))?;
        f.sync_all()
    })();
    match result {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(Error::io("write", &tmp, e))
        }
    }
}

/// First write: succeeds only if no key file exists yet.
///
/// Returns `Ok(false)` when another process (say `portcullis token` racing
/// `portcullis dev`) created the file first; the caller then loads theirs so
/// both processes sign with the same key.
pub(crate) fn create(path: &Path, keys: &KeySet) -> Result<bool, Error> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
    }
    let tmp = write_temp(path, keys)?;
    // A hard link never replaces an existing file, unlike rename.
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(Error::io("create", path, e)),
    }
}

/// Replaces the key file atomically (after a rotation or retirement).
pub(crate) fn replace(path: &Path, keys: &KeySet) -> Result<(), Error> {
    let tmp = write_temp(path, keys)?;
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io("replace", path, e)
    })
}

#[cfg(unix)]
fn tighten_permissions(path: &Path) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt as _;
    let meta = fs::metadata(path).map_err(|e| Error::io("inspect", path, e))?;
    let mode = meta.permissions().mode();
    if mode & 0o077 != 0 {
        tracing::warn!(path = %path.display(), mode = format_args!("{mode:o}"), "dev issuer key file was readable by others; setting mode 0600");
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::io("set permissions on", path, e))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn tighten_permissions(_path: &Path) -> Result<(), Error> {
    Ok(())
}
