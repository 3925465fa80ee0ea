//! Fetching one chunk of new UIDs with memory bounded by bytes, whatever the server says.
//!
//! Sizes come first (`RFC822.SIZE`). The chunk is then cut into groups of consecutive UIDs, in
//! UID order, so that each group can be committed (and `last_uid` moved) on its own:
//! - known sizes under the limit share one fetch, up to [`BATCH_BYTES`] together;
//! - known sizes over `limits.max_message_bytes` are fetched as headers only;
//! - a UID the server gave no size for is fetched alone and measured afterwards (over the
//!   limit: only its headers are kept), so an unknown size can never fill a batch.
//!
//! A FETCH answer without the message content is asked for once more, alone. A UID still without
//! content is reported as missing; [`Progress`] then holds `last_uid` just below it, so it is
//! tried again at the next fetch instead of being skipped for good.

use std::collections::HashMap;

use futures::TryStreamExt;

use super::{uid_set, ImapError, Mailbox, Session};

/// Most bytes of known-size messages fetched (and held in memory) in one round trip.
pub(super) const BATCH_BYTES: u64 = 64 * 1024 * 1024;

/// What to fetch for a group of UIDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Part {
    /// The whole message; its size is known and under the limit.
    Whole,
    /// Headers only: the message is known to be over the limit.
    Headers,
    /// One message of unknown size: fetched whole, cut to its headers when over the limit.
    Unsized,
}

impl Part {
    fn items(self) -> &'static str {
        match self {
            Part::Whole | Part::Unsized => "(UID BODY.PEEK[])",
            Part::Headers => "(UID BODY.PEEK[HEADER])",
        }
    }
}

/// Consecutive UIDs fetched with one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Group {
    pub uids: Vec<u32>,
    pub part: Part,
}

/// One fetched message, ready to be stored.
#[derive(Debug)]
pub(super) struct Fetched {
    pub uid: u32,
    pub raw: Vec<u8>,
    /// Only the headers were kept (the message is over the size limit).
    pub truncated: bool,
}

/// What one group's fetch gave.
#[derive(Debug, Default)]
pub(super) struct GroupFetch {
    pub messages: Vec<Fetched>,
    /// UIDs the server twice answered without content.
    pub missing: Vec<u32>,
}

/// Cut sorted `uids` into groups (see the module doc). `sizes` holds what RFC822.SIZE said.
pub(super) fn plan(uids: &[u32], sizes: &HashMap<u32, u32>, max: u64, budget: u64) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    let mut bytes = 0u64;
    for &uid in uids {
        let (part, size) = match sizes.get(&uid).map(|&s| s as u64) {
            None => (Part::Unsized, 0),
            Some(s) if s > max => (Part::Headers, 0),
            Some(s) => (Part::Whole, s),
        };
        let joins = match groups.last() {
            Some(g) if g.part == part => match part {
                Part::Unsized => false,
                Part::Headers => true,
                Part::Whole => bytes + size <= budget,
            },
            _ => false,
        };
        match groups.last_mut() {
            Some(g) if joins => g.uids.push(uid),
            _ => {
                groups.push(Group {
                    uids: vec![uid],
                    part,
                });
                bytes = 0;
            }
        }
        bytes += size;
    }
    groups
}

/// How far `last_uid` may move: past every UID stored, never past one that is missing.
#[derive(Debug, Clone, Copy)]
pub(super) struct Progress {
    last: i64,
    held: bool,
}

impl Progress {
    pub fn new(last_uid: i64) -> Self {
        Self {
            last: last_uid,
            held: false,
        }
    }

    /// Record a fetched group (sorted UIDs, all above the last one) and return the new last UID.
    /// Once a UID is missing, the mark stays just below it for the rest of this pass.
    pub fn advance(&mut self, group: &[u32], missing: &[u32]) -> i64 {
        if self.held {
            return self.last;
        }
        if let Some(&first) = missing.iter().min() {
            self.last = self.last.max(first as i64 - 1);
            self.held = true;
        } else if let Some(&top) = group.last() {
            self.last = self.last.max(top as i64);
        }
        self.last
    }
}

/// RFC822.SIZE of each UID the server gave a size for.
pub(super) async fn sizes(
    mb: &Mailbox,
    session: &mut Session,
    uids: &[u32],
) -> Result<HashMap<u32, u32>, ImapError> {
    let set = uid_set(uids);
    mb.timed("UID FETCH sizes", async {
        let fetches: Vec<_> = session
            .uid_fetch(&set, "(UID RFC822.SIZE)")
            .await?
            .try_collect()
            .await?;
        Ok(fetches
            .iter()
            .filter_map(|f| Some((f.uid?, f.size?)))
            .collect())
    })
    .await
}

/// Fetch one group; UIDs answered without content are asked for once more, one by one.
pub(super) async fn fetch_group(
    mb: &Mailbox,
    session: &mut Session,
    group: &Group,
    max: u64,
) -> Result<GroupFetch, ImapError> {
    let mut got = contents(mb, session, &group.uids, group.part).await?;
    let mut out = GroupFetch::default();
    for &uid in &group.uids {
        if got.contains_key(&uid) {
            continue;
        }
        match contents(mb, session, &[uid], group.part)
            .await?
            .remove(&uid)
        {
            Some(raw) => {
                got.insert(uid, raw);
            }
            None => out.missing.push(uid),
        }
    }
    for &uid in &group.uids {
        let Some(raw) = got.remove(&uid) else {
            continue;
        };
        out.messages.push(match group.part {
            Part::Headers => Fetched {
                uid,
                raw,
                truncated: true,
            },
            Part::Unsized if raw.len() as u64 > max => Fetched {
                uid,
                raw: headers_of(&raw, max),
                truncated: true,
            },
            Part::Whole | Part::Unsized => Fetched {
                uid,
                raw,
                truncated: false,
            },
        });
    }
    Ok(out)
}

/// The content the server sent for each of `uids` (answers without content are left out).
async fn contents(
    mb: &Mailbox,
    session: &mut Session,
    uids: &[u32],
    part: Part,
) -> Result<HashMap<u32, Vec<u8>>, ImapError> {
    let set = uid_set(uids);
    mb.timed("UID FETCH", async {
        let fetches: Vec<_> = session
            .uid_fetch(&set, part.items())
            .await?
            .try_collect()
            .await?;
        Ok(fetches
            .iter()
            .filter_map(|f| {
                let uid = f.uid.filter(|u| uids.contains(u))?;
                Some((uid, f.body().or_else(|| f.header())?.to_vec()))
            })
            .collect())
    })
    .await
}

/// The header block of a raw message, blank line included (what `BODY[HEADER]` gives); a
/// message without a blank line is all header, cut at `max` bytes.
fn headers_of(raw: &[u8], max: u64) -> Vec<u8> {
    let end = find(raw, b"\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| find(raw, b"\n\n").map(|i| i + 2))
        .unwrap_or(raw.len());
    raw[..end.min(max as usize)].to_vec()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(pairs: &[(u32, u32)]) -> HashMap<u32, u32> {
        pairs.iter().copied().collect()
    }

    fn group(uids: &[u32], part: Part) -> Group {
        Group {
            uids: uids.to_vec(),
            part,
        }
    }

    #[test]
    fn known_sizes_share_a_fetch_up_to_the_byte_budget() {
        let s = sizes(&[(1, 40), (2, 40), (3, 10), (4, 30)]);
        assert_eq!(
            plan(&[1, 2, 3, 4], &s, 100, 64),
            vec![
                group(&[1], Part::Whole),
                group(&[2, 3], Part::Whole),
                group(&[4], Part::Whole)
            ]
        );
    }

    #[test]
    fn a_uid_without_size_is_fetched_alone_between_its_neighbours() {
        let s = sizes(&[(1, 10), (3, 10), (4, 10)]);
        assert_eq!(
            plan(&[1, 2, 3, 4, 5], &s, 100, 64),
            vec![
                group(&[1], Part::Whole),
                group(&[2], Part::Unsized),
                group(&[3, 4], Part::Whole),
                group(&[5], Part::Unsized),
            ]
        );
    }

    #[test]
    fn oversized_messages_are_grouped_for_headers_in_uid_order() {
        let s = sizes(&[(1, 500), (2, 600), (3, 10)]);
        assert_eq!(
            plan(&[1, 2, 3], &s, 100, 64),
            vec![group(&[1, 2], Part::Headers), group(&[3], Part::Whole)]
        );
    }

    #[test]
    fn last_uid_moves_past_stored_groups_and_stops_below_a_missing_one() {
        let mut p = Progress::new(4);
        assert_eq!(p.advance(&[5, 6], &[]), 6);
        assert_eq!(p.advance(&[7, 8, 9], &[8]), 7);
        assert_eq!(p.advance(&[10, 11], &[]), 7, "held below UID 8");
    }

    #[test]
    fn a_missing_first_uid_leaves_last_uid_where_it_was() {
        let mut p = Progress::new(4);
        assert_eq!(p.advance(&[5], &[5]), 4);
    }

    #[test]
    fn headers_are_cut_at_the_blank_line() {
        assert_eq!(
            headers_of(b"A: 1\r\nB: 2\r\n\r\nbody", 100),
            b"A: 1\r\nB: 2\r\n\r\n"
        );
        assert_eq!(headers_of(b"A: 1\n\nbody", 100), b"A: 1\n\n");
        assert_eq!(headers_of(b"A: 1 no end", 4), b"A: 1");
    }
}
