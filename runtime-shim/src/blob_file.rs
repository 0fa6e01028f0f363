//! Where the site's bodies lie in the executable's own file. The site's blob is
//! `include_bytes!` data: a read-only mapping of the executable, whose pages are the page
//! cache's pages of that same file. So a slice of the blob is also a range of `/proc/self/exe`,
//! at the offset its mapping gives (`/proc/self/maps`), and it can leave the way nginx's files
//! do (`sendfile.rs`). The offset is checked against the bytes in memory before any body is
//! sent from the file.

use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::sync::OnceLock;

/// The executable, open, and where the blob lies in it.
pub struct BlobFile {
    pub(crate) file: File,
    blob: &'static [u8],
    /// The blob's first byte's offset in `file`.
    offset: u64,
    /// The size of the page cache's pages (4 KiB on x86-64): sendfile's pipe holds 16.
    pub(crate) page: u64,
}

static BLOB_FILE: OnceLock<Result<BlobFile, String>> = OnceLock::new();

/// The blob's file, found once per process; the reason where it cannot be used (no `/proc`, a
/// blob that is not file-backed, a file that differs from memory), and bodies are then written
/// from memory.
pub fn blob_file() -> Result<&'static BlobFile, &'static str> {
    BLOB_FILE
        .get_or_init(|| BlobFile::open(hello_world::site::blob()))
        .as_ref()
        .map_err(String::as_str)
}

impl BlobFile {
    fn open(blob: &'static [u8]) -> Result<BlobFile, String> {
        if blob.is_empty() {
            return Err("the site has no bodies".to_owned());
        }
        let file =
            File::open("/proc/self/exe").map_err(|e| format!("cannot open /proc/self/exe: {e}"))?;
        let inode = file.metadata().map_err(|e| e.to_string())?.ino();
        let maps = std::fs::read_to_string("/proc/self/maps")
            .map_err(|e| format!("cannot read /proc/self/maps: {e}"))?;
        let offset = offset_in_file(&maps, blob, inode)
            .ok_or("the blob is not in one read-only mapping of the executable")?;
        // SAFETY: sysconf has no preconditions.
        let page = u64::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) })
            .map_err(|_| "the page size is unknown")?;
        let blob_file = BlobFile {
            file,
            blob,
            offset,
            page,
        };
        blob_file.check()?;
        Ok(blob_file)
    }

    /// The bytes at both ends of the blob's range in the file are the blob's: a wrong offset
    /// would send wrong bodies, so it is checked before any is sent.
    fn check(&self) -> Result<(), String> {
        let len = self.blob.len().min(4096);
        let mut read = vec![0; len];
        for start in [0, self.blob.len() - len] {
            self.file
                .read_exact_at(&mut read, self.offset + start as u64)
                .map_err(|e| format!("cannot read the executable: {e}"))?;
            if read != self.blob[start..start + len] {
                return Err("the executable's bytes differ from the blob in memory".to_owned());
            }
        }
        Ok(())
    }

    /// `body`'s offset in the file, if it is a slice of the blob.
    pub(crate) fn offset_of(&self, body: &[u8]) -> Option<u64> {
        let start = (body.as_ptr() as usize).checked_sub(self.blob.as_ptr() as usize)?;
        (start + body.len() <= self.blob.len()).then_some(self.offset + start as u64)
    }
}

/// The offset in the file of `blob`, where `/proc/self/maps` (`maps`) shows it inside one
/// read-only private mapping of the file with `inode`: its pages are then the file's.
fn offset_in_file(maps: &str, blob: &[u8], inode: u64) -> Option<u64> {
    let (start, end) = (
        blob.as_ptr() as u64,
        blob.as_ptr() as u64 + blob.len() as u64,
    );
    maps.lines().find_map(|line| {
        // start-end perms offset dev inode path
        let mut fields = line.split_ascii_whitespace();
        let (from, to) = fields.next()?.split_once('-')?;
        let (from, to) = (
            u64::from_str_radix(from, 16).ok()?,
            u64::from_str_radix(to, 16).ok()?,
        );
        let perms = fields.next()?;
        let offset = u64::from_str_radix(fields.next()?, 16).ok()?;
        let _device = fields.next()?;
        let mapped = fields.next()?.parse::<u64>().ok()?;
        let read_only = perms.starts_with("r-") && perms.ends_with('p');
        (from <= start && end <= to && read_only && mapped == inode)
            .then(|| offset + (start - from))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_blob_is_found_in_the_executable_with_its_own_bytes() {
        // This test binary embeds the site too: the same lookup finds and checks it.
        let blob_file = blob_file().unwrap();
        let blob = hello_world::site::blob();
        assert_eq!(blob_file.offset_of(blob), Some(blob_file.offset));
        let mut read = vec![0; blob.len()];
        blob_file
            .file
            .read_exact_at(&mut read, blob_file.offset)
            .unwrap();
        assert!(read == blob);
    }

    #[test]
    fn only_slices_of_the_blob_have_an_offset() {
        let blob_file = blob_file().unwrap();
        let blob = hello_world::site::blob();
        assert_eq!(
            blob_file.offset_of(&blob[10..20]),
            Some(blob_file.offset + 10)
        );
        assert_eq!(blob_file.offset_of(b"elsewhere"), None);
        let last_byte = &blob[blob.len() - 1..];
        assert_eq!(
            blob_file.offset_of(last_byte),
            Some(blob_file.offset + blob.len() as u64 - 1)
        );
    }

    #[test]
    fn a_mapping_that_is_writable_or_of_another_file_is_not_the_blob() {
        let blob = [0u8; 16];
        let at = blob.as_ptr() as u64;
        let line = |perms: &str, inode: u64| {
            format!(
                "{:x}-{:x} {perms} 00001000 08:01 {inode} /x\n",
                at - 0x10,
                at + 0x100
            )
        };
        assert_eq!(offset_in_file(&line("r--p", 7), &blob, 7), Some(0x1010));
        assert_eq!(offset_in_file(&line("r-xp", 7), &blob, 7), Some(0x1010));
        assert_eq!(offset_in_file(&line("rw-p", 7), &blob, 7), None);
        assert_eq!(offset_in_file(&line("r--s", 7), &blob, 7), None);
        assert_eq!(offset_in_file(&line("r--p", 8), &blob, 7), None);
    }
}
