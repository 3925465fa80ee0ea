//! TODO (extraction branch)

/// Does `data` start like an RFC 5322 message (header lines)?
pub fn looks_like_email(data: &[u8]) -> bool {
    let _ = data;
    todo!()
}
