//! Seams to the department-notices branch (replaced when it lands).

use crate::filing::{CaseId, Conn, StoreError};

pub async fn queue_status_notice(
    _conn: &mut Conn,
    _case_id: CaseId,
    _key: &str,
    _status: &str,
    _note: &str,
) -> Result<(), StoreError> {
    Ok(())
}

pub async fn case_routed(
    _conn: &mut Conn,
    _case_id: CaseId,
    _department: &str,
) -> Result<(), StoreError> {
    Ok(())
}
