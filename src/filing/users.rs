//! Desk accounts, their sessions and API tokens, and failed logins.
//!
//! Everything lives in the database so that several `loket serve` processes behind one proxy
//! share it: a session made by one is honoured by the others, and disabling an account ends its
//! sessions and tokens everywhere at once. Session ids and tokens are stored as SHA-256 hashes
//! only (they are 256-bit random secrets, so a plain hash is enough); passwords as argon2id
//! strings made by the caller.

use serde::Serialize;

use super::ids::UserId;
use super::now_ms;
use super::store::{QueryContext, Store, StoreError};
use crate::domain::Role;

/// An account to create.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub role: Role,
    pub department: Option<&'a str>,
    pub password_hash: &'a str,
}

/// An account as the desk sees it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct User {
    #[serde(skip)]
    pub id: UserId,
    pub username: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub role: Role,
    pub department: Option<String>,
    pub disabled: bool,
    pub created_at: String,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: UserId,
    username: String,
    name: Option<String>,
    email: Option<String>,
    role: String,
    department: Option<String>,
    disabled_at: Option<i64>,
    created_at: i64,
}

impl UserRow {
    fn into_user(self) -> Result<User, StoreError> {
        let role = Role::parse(&self.role).ok_or_else(|| {
            StoreError::NotFound(format!(
                "user {}: unknown role {}",
                self.username, self.role
            ))
        })?;
        Ok(User {
            id: self.id,
            username: self.username,
            name: self.name,
            email: self.email,
            role,
            department: self.department,
            disabled: self.disabled_at.is_some(),
            created_at: super::rfc3339(self.created_at),
        })
    }
}

const USER_COLUMNS: &str =
    "u.id, u.username, u.name, u.email, u.role, u.department, u.disabled_at, u.created_at";

/// A live session: its account and the CSRF token its forms must carry.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub csrf_token: String,
    pub expires_at: i64,
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    #[sqlx(flatten)]
    user: UserRow,
    csrf_token: String,
    expires_at: i64,
    seen_at: i64,
}

/// A session to open.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub id_hash: &'a str,
    pub user_id: UserId,
    pub csrf_token: &'a str,
    pub client: &'a str,
    pub expires_at: i64,
}

/// How often a session's `seen_at` is written at most (sliding expiry without a write per
/// request).
const TOUCH_EVERY_MS: i64 = 60_000;

impl Store {
    /// Create an account; `None` if the username is taken.
    pub async fn add_user(&self, u: &NewUser<'_>) -> Result<Option<UserId>, StoreError> {
        let now = now_ms();
        sqlx::query_scalar(
            "INSERT INTO users (username, name, email, role, department, password_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (username) DO NOTHING RETURNING id",
        )
        .bind(u.username)
        .bind(u.name)
        .bind(u.email)
        .bind(u.role.as_str())
        .bind(u.department)
        .bind(u.password_hash)
        .bind(now)
        .fetch_optional(self.pool())
        .await
        .what("add user")
    }

    /// Every account, by username.
    pub async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let rows: Vec<UserRow> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users u ORDER BY u.username"
        ))
        .fetch_all(self.pool())
        .await
        .what("list users")?;
        rows.into_iter().map(UserRow::into_user).collect()
    }

    /// An account by username (disabled ones too).
    pub async fn user(&self, username: &str) -> Result<Option<User>, StoreError> {
        Ok(self.user_with_hash(username).await?.map(|(u, _)| u))
    }

    /// An account and its password hash, for a login.
    pub async fn user_with_hash(
        &self,
        username: &str,
    ) -> Result<Option<(User, String)>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            user: UserRow,
            password_hash: String,
        }
        let row: Option<Row> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.username = $1"
        ))
        .bind(username)
        .fetch_optional(self.pool())
        .await
        .what("load user")?;
        row.map(|r| Ok((r.user.into_user()?, r.password_hash)))
            .transpose()
    }

    /// Disable an account: its sessions end and its tokens stop working at once. False if
    /// there is no such account.
    pub async fn disable_user(&self, username: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let now = now_ms();
        let id: Option<UserId> = sqlx::query_scalar(
            "UPDATE users SET disabled_at = COALESCE(disabled_at, $1), updated_at = $1 WHERE username = $2 RETURNING id",
        )
        .bind(now)
        .bind(username)
        .fetch_optional(&mut *tx)
        .await
        .what("disable user")?;
        let Some(id) = id else {
            return Ok(false);
        };
        end_sessions_of(&mut tx, id).await?;
        sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await
        .what("revoke tokens")?;
        super::store::commit(tx).await?;
        Ok(true)
    }

    /// A new password; the account's sessions end. False if there is no such account.
    pub async fn set_password(&self, username: &str, hash: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let id: Option<UserId> = sqlx::query_scalar(
            "UPDATE users SET password_hash = $1, updated_at = $2 WHERE username = $3 RETURNING id",
        )
        .bind(hash)
        .bind(now_ms())
        .bind(username)
        .fetch_optional(&mut *tx)
        .await
        .what("set password")?;
        let Some(id) = id else {
            return Ok(false);
        };
        end_sessions_of(&mut tx, id).await?;
        super::store::commit(tx).await?;
        Ok(true)
    }

    /// Store a new API token (its hash) for an account.
    pub async fn add_token(&self, user: UserId, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO api_tokens (user_id, token_hash, created_at) VALUES ($1, $2, $3)")
            .bind(user)
            .bind(token_hash)
            .bind(now_ms())
            .execute(self.pool())
            .await
            .what("add token")?;
        Ok(())
    }

    /// The enabled account a bearer token belongs to.
    pub async fn user_by_token(&self, token_hash: &str) -> Result<Option<User>, StoreError> {
        let row: Option<UserRow> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.disabled_at IS NULL"
        ))
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await
        .what("check token")?;
        row.map(UserRow::into_user).transpose()
    }

    /// Open a session.
    pub async fn create_session(&self, s: &NewSession<'_>) -> Result<(), StoreError> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, csrf_token, client, created_at, seen_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $5, $6)",
        )
        .bind(s.id_hash)
        .bind(s.user_id)
        .bind(s.csrf_token)
        .bind(s.client)
        .bind(now)
        .bind(s.expires_at)
        .execute(self.pool())
        .await
        .what("create session")?;
        Ok(())
    }

    /// The live session with this id hash, of an enabled account; extends it by `idle_ms` at
    /// most once a minute.
    pub async fn session(
        &self,
        id_hash: &str,
        idle_ms: i64,
    ) -> Result<Option<Session>, StoreError> {
        let now = now_ms();
        let row: Option<SessionRow> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS}, s.csrf_token, s.expires_at, s.seen_at FROM sessions s \
             JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL"
        ))
        .bind(id_hash)
        .bind(now)
        .fetch_optional(self.pool())
        .await
        .what("load session")?;
        let Some(row) = row else {
            return Ok(None);
        };
        let mut expires_at = row.expires_at;
        if now - row.seen_at > TOUCH_EVERY_MS {
            expires_at = expires_at.max(now + idle_ms);
            sqlx::query("UPDATE sessions SET seen_at = $1, expires_at = $2 WHERE id_hash = $3")
                .bind(now)
                .bind(expires_at)
                .bind(id_hash)
                .execute(self.pool())
                .await
                .what("touch session")?;
        }
        Ok(Some(Session {
            user: row.user.into_user()?,
            csrf_token: row.csrf_token,
            expires_at,
        }))
    }

    /// End one session (logout).
    pub async fn end_session(&self, id_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(self.pool())
            .await
            .what("end session")?;
        Ok(())
    }

    /// Record a failed login for throttling.
    pub async fn login_failed(&self, username: &str, client: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO login_failures (username, client, at) VALUES ($1, $2, $3)")
            .bind(username)
            .bind(client)
            .bind(now_ms())
            .execute(self.pool())
            .await
            .what("record failed login")?;
        Ok(())
    }

    /// Failed logins since `since_ms`: (for this account, from this address).
    pub async fn login_failures(
        &self,
        username: &str,
        client: &str,
        since_ms: i64,
    ) -> Result<(i64, i64), StoreError> {
        let by_user: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM login_failures WHERE username = $1 AND at > $2",
        )
        .bind(username)
        .bind(since_ms)
        .fetch_one(self.pool())
        .await
        .what("count failed logins")?;
        let by_client: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM login_failures WHERE client = $1 AND at > $2")
                .bind(client)
                .bind(since_ms)
                .fetch_one(self.pool())
                .await
                .what("count failed logins")?;
        Ok((by_user, by_client))
    }

    /// A successful login forgets the account's failures; old rows of everyone are pruned.
    pub async fn login_succeeded(
        &self,
        username: &str,
        older_than_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_failures WHERE username = $1 OR at < $2")
            .bind(username)
            .bind(older_than_ms)
            .execute(self.pool())
            .await
            .what("forget failed logins")?;
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(now_ms())
            .execute(self.pool())
            .await
            .what("prune sessions")?;
        Ok(())
    }
}

async fn end_sessions_of(conn: &mut super::Conn, user: UserId) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user)
        .execute(conn)
        .await
        .what("end sessions")?;
    Ok(())
}
