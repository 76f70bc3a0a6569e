//! A reader for OLE compound files ([MS-CFB]; MSI packages are ones), for hostile input: every
//! sector number is checked against the file, every chain is walked at most once per sector
//! (a cycle is an error, not a hang), sizes are bounded by the file, and the directory tree is
//! walked with each entry visited once. Read-only, whole file in memory.

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
#[error("compound file: {0}")]
pub struct OleError(pub String);

fn err<T>(s: impl Into<String>) -> Result<T, OleError> {
    Err(OleError(s.into()))
}

pub const MAGIC: [u8; 8] = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];
const END_OF_CHAIN: u32 = 0xffff_fffe;
const FREE: u32 = 0xffff_ffff;
const MAX_REG_SECT: u32 = 0xffff_fffa;
const NO_STREAM: u32 = 0xffff_ffff;
/// Directory entries beyond this are refused (an MSI has dozens to a few thousand).
const MAX_ENTRIES: usize = 1 << 16;

pub const STORAGE: u8 = 1;
pub const STREAM: u8 = 2;
pub const ROOT: u8 = 5;

/// One directory entry, with the raw fields the MSI hashes need.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The name as stored: UTF-16LE code units including the terminating NUL (nameLen bytes).
    pub name_raw: Vec<u8>,
    pub kind: u8,
    pub clsid: [u8; 16],
    pub state_bits: [u8; 4],
    pub created: [u8; 8],
    pub modified: [u8; 8],
    start: u32,
    /// The stream size (low 32 bits in a version 3 file, as [MS-CFB] says readers must use).
    pub size: u64,
    /// The size field as stored (8 bytes).
    pub size_raw: [u8; 8],
    /// Children of a storage or the root, as indexes into [`Ole::entries`].
    pub children: Vec<usize>,
}

impl Entry {
    /// The name without its terminator, as text (lossy), for messages.
    pub fn name(&self) -> String {
        let units: Vec<u16> =
            self.name_raw.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).take_while(|u| *u != 0).collect();
        String::from_utf16_lossy(&units)
    }
}

pub struct Ole<'a> {
    bytes: &'a [u8],
    shift: u32,
    fat: Vec<u32>,
    minifat: Vec<u32>,
    ministream: Vec<u8>,
    cutoff: u64,
    /// Sectors in the file after the header: no chain is longer.
    nsectors: usize,
    /// Entries reached from the root; index 0 is the root.
    pub entries: Vec<Entry>,
    /// Where the compound file ends: after the last sector any chain or table holds. Bytes after
    /// it are appended data no stream holds (and so no MSI signature hashes).
    pub end: usize,
}

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}

fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().expect("4 bytes"))
}

impl<'a> Ole<'a> {
    pub fn parse(bytes: &'a [u8]) -> Result<Ole<'a>, OleError> {
        if bytes.len() < 512 || bytes[..8] != MAGIC {
            return err("not a compound file (no header)");
        }
        let major = u16_at(bytes, 26);
        let shift = u16_at(bytes, 30) as u32;
        match (major, shift) {
            (3, 9) | (4, 12) => {}
            _ => return err(format!("version {major} with sector shift {shift} is not a valid combination")),
        }
        if u16_at(bytes, 28) != 0xfffe || u16_at(bytes, 32) != 6 {
            return err("bad byte order mark or mini sector shift");
        }
        // [MS-CFB] 2.2: the mini stream cutoff MUST be 4096; another value moves streams between
        // the mini stream and the FAT, so one file would read two ways.
        if u32_at(bytes, 56) != 0x1000 {
            return err(format!("unsupported mini stream cutoff size {:#x}", u32_at(bytes, 56)));
        }
        let sector = 1usize << shift;
        let sectors = (bytes.len().saturating_sub(sector)).div_ceil(sector);
        let mut ole = Ole {
            bytes,
            shift,
            fat: Vec::new(),
            minifat: Vec::new(),
            ministream: Vec::new(),
            cutoff: u32_at(bytes, 56) as u64,
            nsectors: sectors,
            entries: Vec::new(),
            end: sector,
        };
        // The FAT's sectors: 109 in the header, then the DIFAT chain (each sector: entries, next).
        let fat_count = u32_at(bytes, 44) as usize;
        if fat_count > sectors {
            return err(format!("{fat_count} FAT sectors in a file of {sectors} sectors"));
        }
        let mut fat_sectors: Vec<u32> = (0..109).map(|i| u32_at(bytes, 76 + 4 * i)).collect();
        let mut difat = u32_at(bytes, 68);
        let mut owned = vec![false; sectors];
        let mut hops = 0;
        while difat < MAX_REG_SECT && fat_sectors.len() < fat_count {
            hops += 1;
            if hops > sectors {
                return err("the DIFAT chain loops");
            }
            let s = ole.sector(difat)?;
            claim(&mut owned, difat)?;
            let per = sector / 4 - 1;
            fat_sectors.extend((0..per).map(|i| u32_at(s, 4 * i)));
            difat = u32_at(s, 4 * per);
        }
        if fat_sectors.len() < fat_count {
            return err("the DIFAT lists fewer FAT sectors than the header says");
        }
        let mut fat = Vec::with_capacity(fat_count * sector / 4);
        for &fs in &fat_sectors[..fat_count] {
            let s = ole.sector(fs)?;
            claim(&mut owned, fs)?;
            fat.extend((0..sector / 4).map(|i| u32_at(s, 4 * i)));
        }
        ole.fat = fat;
        // The mini FAT.
        let minifat_start = u32_at(bytes, 60);
        if minifat_start < MAX_REG_SECT {
            let raw = ole.read_chain(minifat_start, None)?;
            ole.minifat = raw.chunks_exact(4).map(|c| u32_at(c, 0)).collect();
        }
        // The directory.
        let dir = ole.read_chain(u32_at(bytes, 48), None)?;
        let raw_entries: Vec<&[u8]> = dir.chunks_exact(128).take(MAX_ENTRIES).collect();
        if raw_entries.is_empty() {
            return err("no directory entries");
        }
        ole.entries = tree(&raw_entries, major)?;
        // The mini stream: the root entry's chain.
        let root = &ole.entries[0];
        if root.size > 0 {
            ole.ministream = ole.read_chain(root.start, Some(root.size))?;
        }
        // Each sector belongs to at most one chain (and each mini sector to one mini chain):
        // streams sharing sectors would make the work quadratic and one byte count twice.
        ole.claim_chain(&mut owned, u32_at(bytes, 48), false)?;
        ole.claim_chain(&mut owned, minifat_start, false)?;
        if ole.entries[0].size > 0 {
            ole.claim_chain(&mut owned, ole.entries[0].start, false)?;
        }
        let mut mini_owned = vec![false; ole.minifat.len()];
        for e in ole.entries.iter().filter(|e| e.kind == STREAM && e.size > 0) {
            if e.size >= ole.cutoff {
                ole.claim_chain(&mut owned, e.start, false)?;
            } else {
                ole.claim_chain(&mut mini_owned, e.start, true)?;
            }
        }
        if let Some(last) = owned.iter().rposition(|o| *o) {
            ole.end = (last + 2) * sector;
        }
        Ok(ole)
    }

    /// Mark every sector of the chain from `start` as owned; a sector already owned is an error.
    fn claim_chain(&self, owned: &mut [bool], start: u32, mini: bool) -> Result<(), OleError> {
        let table = if mini { &self.minifat } else { &self.fat };
        let mut s = start;
        while s < MAX_REG_SECT {
            claim(owned, s)?;
            s = *table.get(s as usize).ok_or_else(|| OleError(format!("sector {s:#x} is not in the FAT")))?;
        }
        Ok(())
    }

    fn sector(&self, n: u32) -> Result<&'a [u8], OleError> {
        let size = 1usize << self.shift;
        let start = (n as usize).checked_add(1).and_then(|i| i.checked_mul(size));
        match start.and_then(|s| self.bytes.get(s..s + size)) {
            Some(s) => Ok(s),
            None => err(format!("sector {n:#x} lies outside the file")),
        }
    }

    /// The bytes of a chain in the FAT from `start`, cut to `size` if given.
    fn read_chain(&self, start: u32, size: Option<u64>) -> Result<Vec<u8>, OleError> {
        if let Some(n) = size {
            if n > self.bytes.len() as u64 {
                return err(format!("a stream of {n} bytes in a file of {}", self.bytes.len()));
            }
        }
        let mut out = Vec::new();
        let mut s = start;
        let mut hops = 0usize;
        while s != END_OF_CHAIN {
            if size.is_some_and(|n| out.len() as u64 >= n) {
                break;
            }
            hops += 1;
            if hops > self.nsectors || s >= MAX_REG_SECT {
                return err(format!("the sector chain from {start:#x} loops or is broken"));
            }
            out.extend_from_slice(self.sector(s)?);
            s = *self.fat.get(s as usize).ok_or_else(|| OleError(format!("sector {s:#x} is not in the FAT")))?;
            if s == FREE {
                return err(format!("the sector chain from {start:#x} runs into a free sector"));
            }
        }
        match size {
            Some(n) if (out.len() as u64) < n => {
                err(format!("the sector chain from {start:#x} is shorter than its stream"))
            }
            Some(n) => {
                out.truncate(n as usize);
                Ok(out)
            }
            None => Ok(out),
        }
    }

    /// The contents of stream entry `i`.
    pub fn read(&self, i: usize) -> Result<Vec<u8>, OleError> {
        let e = &self.entries[i];
        if e.size == 0 {
            return Ok(Vec::new());
        }
        if e.size >= self.cutoff {
            return self.read_chain(e.start, Some(e.size));
        }
        // The mini stream, in 64-byte sectors chained by the mini FAT.
        if e.size > self.ministream.len() as u64 {
            return err(format!("stream {} is larger than the mini stream", e.name()));
        }
        let mut out = Vec::with_capacity(e.size as usize);
        let mut s = e.start;
        let mut hops = 0usize;
        while (out.len() as u64) < e.size {
            hops += 1;
            if s >= MAX_REG_SECT || hops > self.minifat.len() {
                return err(format!("the mini sector chain of {} loops or is broken", e.name()));
            }
            let off = s as usize * 64;
            let chunk = self
                .ministream
                .get(off..off + 64)
                .ok_or_else(|| OleError(format!("mini sector {s:#x} lies outside the mini stream")))?;
            out.extend_from_slice(chunk);
            s = self.minifat[s as usize];
        }
        out.truncate(e.size as usize);
        Ok(out)
    }
}

fn claim(owned: &mut [bool], s: u32) -> Result<(), OleError> {
    match owned.get_mut(s as usize) {
        Some(true) => err(format!("sector {s:#x} belongs to two chains")),
        Some(o) => {
            *o = true;
            Ok(())
        }
        None => err(format!("sector {s:#x} lies outside the file")),
    }
}

/// Build the tree from the root: each storage's children are the red-black tree under its
/// child id (left and right siblings); each entry is reached at most once.
fn tree(raw: &[&[u8]], major: u16) -> Result<Vec<Entry>, OleError> {
    let parse = |d: &[u8]| -> Result<(Entry, [u32; 3]), OleError> {
        let len = u16_at(d, 64) as usize;
        if len == 0 || len > 64 || !len.is_multiple_of(2) {
            return err(format!("directory entry name length {len}"));
        }
        let size_raw: [u8; 8] = d[120..128].try_into().expect("8 bytes");
        let size = if major == 3 { u32_at(d, 120) as u64 } else { u64::from_le_bytes(size_raw) };
        let e = Entry {
            name_raw: d[..len].to_vec(),
            kind: d[66],
            clsid: d[80..96].try_into().expect("16 bytes"),
            state_bits: d[96..100].try_into().expect("4 bytes"),
            created: d[100..108].try_into().expect("8 bytes"),
            modified: d[108..116].try_into().expect("8 bytes"),
            start: u32_at(d, 116),
            size,
            size_raw,
            children: Vec::new(),
        };
        Ok((e, [u32_at(d, 68), u32_at(d, 72), u32_at(d, 76)]))
    };
    let (root, links) = parse(raw[0])?;
    if root.kind != ROOT {
        return err("the first directory entry is not the root");
    }
    let mut entries = vec![root];
    let mut seen = vec![false; raw.len()];
    seen[0] = true;
    // (storage index in `entries`, tree node id to visit)
    let mut stack: Vec<(usize, u32)> = vec![(0, links[2])];
    while let Some((parent, id)) = stack.pop() {
        if id == NO_STREAM {
            continue;
        }
        let Some(d) = raw.get(id as usize) else { return err(format!("directory entry id {id:#x} out of range")) };
        if std::mem::replace(&mut seen[id as usize], true) {
            return err(format!("directory entry {id:#x} is reached twice (a cycle)"));
        }
        let (e, [left, right, child]) = parse(d)?;
        let kind = e.kind;
        if kind != STORAGE && kind != STREAM {
            return err(format!("directory entry {id:#x} of type {kind}"));
        }
        let me = entries.len();
        entries.push(e);
        entries[parent].children.push(me);
        stack.push((parent, left));
        stack.push((parent, right));
        if kind == STORAGE {
            stack.push((me, child));
        } else if child != NO_STREAM {
            return err(format!("stream entry {id:#x} has children"));
        }
    }
    Ok(entries)
}
