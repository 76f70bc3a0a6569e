//! `--shard INDEX/COUNT`: which repositories one process of a sharded scan owns.
//!
//! A repository belongs to the shard whose slice of the 64-bit hash space holds the SHA-256 of
//! its name (the first eight bytes, big-endian). The name alone decides: a repository does not
//! move when others are added or removed, every shard of the same COUNT agrees on the owner of
//! every name without talking to the others, and the slices cover the space exactly once, so the
//! shards of one scan together scan each repository once.

use sha2::{Digest, Sha256};
use std::fmt;

/// One slice of a sharded scan: `index` in `0..count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShardError {
    #[error("--shard {0:?} is not INDEX/COUNT (e.g. 0/4, or auto/4 to read JOB_COMPLETION_INDEX)")]
    Syntax(String),
    #[error("--shard {index}/{count}: the index must be below the count (0 to {})", count.saturating_sub(1))]
    OutOfRange { index: u32, count: u32 },
    #[error("--shard auto/{0}: JOB_COMPLETION_INDEX is not set (a Kubernetes Indexed Job sets it); give the index")]
    NoIndex(u32),
    #[error("--shard …/{0}: at most {max} shards", max = Shard::MAX_COUNT)]
    TooMany(u32),
    #[error("--shard auto/{count}: JOB_COMPLETION_INDEX={value:?} is not a number")]
    BadIndex { count: u32, value: String },
    #[error("--shard auto/{count}: JOB_COMPLETION_INDEX={index} is not below the count (0 to {}): does the Job's completions match COUNT?", count.saturating_sub(1))]
    AutoOutOfRange { index: u32, count: u32 },
}

impl Shard {
    /// More shards than repositories is no use; this bound keeps a merge's bookkeeping small.
    pub const MAX_COUNT: u32 = 65_536;

    /// Whether `index` is in `0..count` and `count` in `1..=MAX_COUNT`.
    pub fn is_valid(&self) -> bool {
        self.count >= 1 && self.count <= Shard::MAX_COUNT && self.index < self.count
    }

    /// `INDEX/COUNT`, or `auto/COUNT` with the index from `job_index` (the value of
    /// `JOB_COMPLETION_INDEX`).
    pub fn parse(text: &str, job_index: Option<&str>) -> Result<Shard, ShardError> {
        let syntax = || ShardError::Syntax(text.to_string());
        let (index, count) = text.split_once('/').ok_or_else(syntax)?;
        let count: u32 = count.trim().parse().map_err(|_| syntax())?;
        if count == 0 {
            return Err(syntax());
        }
        if count > Shard::MAX_COUNT {
            return Err(ShardError::TooMany(count));
        }
        let auto = index.trim() == "auto";
        let index: u32 = if auto {
            let value = job_index.ok_or(ShardError::NoIndex(count))?;
            value.trim().parse().map_err(|_| ShardError::BadIndex { count, value: value.to_string() })?
        } else {
            index.trim().parse().map_err(|_| syntax())?
        };
        if index >= count {
            return Err(if auto {
                ShardError::AutoOutOfRange { index, count }
            } else {
                ShardError::OutOfRange { index, count }
            });
        }
        Ok(Shard { index, count })
    }

    /// The shard of `count` that owns `repository`.
    pub fn owner(repository: &str, count: u32) -> u32 {
        let digest = Sha256::digest(repository.as_bytes());
        let h = u64::from_be_bytes(digest[..8].try_into().expect("eight bytes"));
        ((u128::from(h) * u128::from(count)) >> 64) as u32
    }

    pub fn owns(&self, repository: &str) -> bool {
        Shard::owner(repository, self.count) == self.index
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        assert_eq!(Shard::parse("2/7", None), Ok(Shard { index: 2, count: 7 }));
        assert_eq!(Shard::parse("auto/4", Some("3")), Ok(Shard { index: 3, count: 4 }));
        assert_eq!(Shard::parse("auto/4", None), Err(ShardError::NoIndex(4)));
        assert_eq!(Shard::parse("4/4", None), Err(ShardError::OutOfRange { index: 4, count: 4 }));
        assert_eq!(Shard::parse("auto/4", Some("9")), Err(ShardError::AutoOutOfRange { index: 9, count: 4 }));
        assert!(matches!(Shard::parse("auto/4", Some("x")), Err(ShardError::BadIndex { .. })));
        for bad in ["", "1", "1/0", "/3", "a/3", "1/-3", "-1/3", "0/65537", "0/4294967295"] {
            assert!(Shard::parse(bad, None).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_name_has_exactly_one_owner_and_keeps_it() {
        let names: Vec<String> = (0..2000).map(|i| format!("team{}/app-{i}", i % 13)).collect();
        for count in [1u32, 2, 3, 7, 64] {
            let mut per = vec![0usize; count as usize];
            for n in &names {
                let owners: Vec<u32> = (0..count).filter(|&i| Shard { index: i, count }.owns(n)).collect();
                assert_eq!(owners.len(), 1, "{n} in {count} shards: {owners:?}");
                assert_eq!(owners[0], Shard::owner(n, count));
                per[owners[0] as usize] += 1;
            }
            // Roughly even: no shard gets less than half its share.
            let share = names.len() / count as usize;
            assert!(per.iter().all(|&k| k * 2 >= share), "{count}: {per:?}");
        }
        // Pinned, computed independently (Python: int.from_bytes(sha256(name)[:8], "big") * 1000 >> 64):
        // the owner is a function of the name alone, the same in every release.
        let pinned: Vec<u32> = ["a", "b", "library/alpine"].iter().map(|n| Shard::owner(n, 1000)).collect();
        assert_eq!(pinned, [791, 242, 548]);
    }
}
