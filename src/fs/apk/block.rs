//! The APK Signing Block and what the v2/v3 content digests cover
//! (https://source.android.com/docs/security/features/apksigning/v2). The block sits immediately
//! before the ZIP central directory: `u64 size`, ID-value pairs (`u64 len`, `u32 id`, value), `u64
//! size` again and the magic `"APK Sig Block 42"`; the end of central directory record's offset of
//! the central directory must point right after it. The digests cover three sections: the entries
//! (up to the block), the central directory, and the end record with its central-directory offset
//! replaced by the block's offset, each in 1 MiB chunks.

use crate::crypto::HashAlg;

pub const MAGIC: &[u8; 16] = b"APK Sig Block 42";
const CHUNK: usize = 1 << 20;
const MAX_PAIRS: usize = 1024;

/// An APK's layout around the signing block.
pub struct Layout<'a> {
    pub bytes: &'a [u8],
    pub block_start: usize,
    pub cd_start: usize,
    pub eocd_start: usize,
    /// The block's ID-value pairs, in order.
    pub pairs: Vec<(u32, &'a [u8])>,
}

/// Why no signing block could be used: none there (v2/v3 absent, as apksigner decides), or one
/// whose structure lies (a damaged block: invalid).
#[derive(Debug)]
pub enum NoBlock {
    Absent(String),
    Malformed(String),
}

fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    b.get(o..o.checked_add(4)?).map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]))
}

fn u64_at(b: &[u8], o: usize) -> Option<u64> {
    b.get(o..o.checked_add(8)?).map(|x| u64::from_le_bytes(x.try_into().expect("8 bytes")))
}

/// The end of central directory record: apksig's rule, the same the JAR check uses.
fn eocd(b: &[u8]) -> Option<usize> {
    super::super::jar::end_record(b)
}

pub fn locate(bytes: &[u8]) -> Result<Layout<'_>, NoBlock> {
    let eocd_start = eocd(bytes).ok_or_else(|| NoBlock::Absent("no ZIP end of central directory record".into()))?;
    let cd_size = u32_at(bytes, eocd_start + 12).expect("in the record") as usize;
    let cd_start = u32_at(bytes, eocd_start + 16).expect("in the record") as usize;
    if cd_start == 0xffff_ffff || u16::from_le_bytes([bytes[eocd_start + 10], bytes[eocd_start + 11]]) == 0xffff {
        return Err(NoBlock::Absent("a ZIP64 archive: APK signature schemes v2/v3 do not apply".into()));
    }
    if cd_start.checked_add(cd_size) != Some(eocd_start) {
        return Err(NoBlock::Absent(
            "the central directory is not immediately followed by the end of central directory record".into(),
        ));
    }
    if cd_start < 32 || bytes.get(cd_start - 16..cd_start) != Some(MAGIC) {
        return Err(NoBlock::Absent("no APK Signing Block before the central directory".into()));
    }
    let footer = u64_at(bytes, cd_start - 24).expect("in the file");
    let total = footer.checked_add(8).filter(|t| *t >= 32 && *t <= cd_start as u64).ok_or_else(|| {
        NoBlock::Malformed(format!("the APK Signing Block's size {footer} does not fit before the central directory"))
    })? as usize;
    let block_start = cd_start - total;
    let header = u64_at(bytes, block_start).expect("in the file");
    if header != footer {
        return Err(NoBlock::Malformed(format!(
            "the APK Signing Block's two sizes differ ({header} at its start, {footer} at its end)"
        )));
    }
    let mut pairs = Vec::new();
    let region = &bytes[block_start + 8..cd_start - 24];
    let mut pos = 0usize;
    while pos < region.len() {
        let len = u64_at(region, pos)
            .ok_or_else(|| NoBlock::Malformed(format!("ID-value pair {} is truncated", pairs.len())))?;
        let end = (pos as u64 + 8)
            .checked_add(len)
            .filter(|e| len >= 4 && *e <= region.len() as u64)
            .ok_or_else(|| NoBlock::Malformed(format!("ID-value pair {} has a bad length {len}", pairs.len())))?
            as usize;
        let id = u32_at(region, pos + 8).expect("len >= 4");
        pairs.push((id, &region[pos + 12..end]));
        if pairs.len() > MAX_PAIRS {
            return Err(NoBlock::Malformed(format!("more than {MAX_PAIRS} ID-value pairs")));
        }
        pos = end;
    }
    Ok(Layout { bytes, block_start, cd_start, eocd_start, pairs })
}

impl Layout<'_> {
    /// The value of the first pair with `id`, and how many there are.
    pub fn find(&self, id: u32) -> (Option<&[u8]>, usize) {
        let mut it = self.pairs.iter().filter(|(i, _)| *i == id);
        let first = it.next().map(|(_, v)| *v);
        (first, first.map_or(0, |_| 1 + it.count()))
    }

    /// The chunked content digest with `alg` (SHA-256 or SHA-512): per 1 MiB chunk of each
    /// section `H(0xa5 ‖ u32 len ‖ chunk)`, then `H(0x5a ‖ u32 count ‖ chunk digests)`.
    pub fn content_digest(&self, alg: HashAlg) -> Vec<u8> {
        let mut eocd = self.bytes[self.eocd_start..].to_vec();
        eocd[16..20].copy_from_slice(&(self.block_start as u32).to_le_bytes());
        let sections: [&[u8]; 3] =
            [&self.bytes[..self.block_start], &self.bytes[self.cd_start..self.eocd_start], &eocd];
        let mut digests = Vec::new();
        let mut count = 0u32;
        for s in sections {
            for chunk in s.chunks(CHUNK) {
                let mut h = alg.hasher();
                h.update(&[0xa5]);
                h.update(&(chunk.len() as u32).to_le_bytes());
                h.update(chunk);
                digests.extend(h.finish());
                count += 1;
            }
        }
        let mut h = alg.hasher();
        h.update(&[0x5a]);
        h.update(&count.to_le_bytes());
        h.update(&digests);
        h.finish()
    }
}

/// A reader of the little-endian, u32-length-prefixed structures of the v2/v3 blocks.
#[derive(Clone, Copy)]
pub struct Reader<'a> {
    pub rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(b: &'a [u8]) -> Reader<'a> {
        Reader { rest: b }
    }

    pub fn u32(&mut self, what: &str) -> Result<u32, String> {
        let v = u32_at(self.rest, 0).ok_or_else(|| format!("{what} is truncated"))?;
        self.rest = &self.rest[4..];
        Ok(v)
    }

    /// A `u32`-length-prefixed slice.
    pub fn prefixed(&mut self, what: &str) -> Result<&'a [u8], String> {
        let len = self.u32(what)? as usize;
        let v = self
            .rest
            .get(..len)
            .ok_or_else(|| format!("{what}: length {len} exceeds the {} bytes left", self.rest.len()))?;
        self.rest = &self.rest[len..];
        Ok(v)
    }

    /// A `u32`-length-prefixed sequence of `u32`-length-prefixed items.
    pub fn sequence(&mut self, what: &str) -> Result<Vec<&'a [u8]>, String> {
        let mut inner = Reader::new(self.prefixed(what)?);
        let mut out = Vec::new();
        while !inner.rest.is_empty() {
            out.push(inner.prefixed(what)?);
            if out.len() > 4096 {
                return Err(format!("{what}: more than 4096 items"));
            }
        }
        Ok(out)
    }

    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }
}
