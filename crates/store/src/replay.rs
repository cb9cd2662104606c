//! Signed requests already acted on: the unified API's protection against a captured write
//! being posted again within its timestamp window.

use sqlx::Row;

use crate::{Store, StoreError};

/// What the store knows of a signed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignedRequest {
    /// Never seen: it is now claimed, and the caller acts on it.
    New,
    /// Acted on already; the answer it got.
    Answered(String),
    /// Claimed by a call still running.
    InProgress,
}

impl Store {
    /// Claims a signed request for `tenant_id`, forgetting requests older than `keep_ms` (the
    /// timestamp window on both sides, after which the request is refused anyway).
    pub async fn claim_signed_request(
        &self,
        tenant_id: &str,
        request_key: &str,
        now_ms: i64,
        keep_ms: i64,
    ) -> Result<SignedRequest, StoreError> {
        sqlx::query("DELETE FROM signed_requests WHERE created_ms < $1")
            .bind(now_ms.saturating_sub(keep_ms))
            .execute(self.pool())
            .await?;
        let claimed = sqlx::query(
            "INSERT INTO signed_requests (tenant_id, request_key, answer, created_ms) VALUES ($1, $2, NULL, $3)
             ON CONFLICT (tenant_id, request_key) DO NOTHING",
        )
        .bind(tenant_id)
        .bind(request_key)
        .bind(now_ms)
        .execute(self.pool())
        .await?;
        if claimed.rows_affected() == 1 {
            return Ok(SignedRequest::New);
        }
        let row = sqlx::query(
            "SELECT answer FROM signed_requests WHERE tenant_id = $1 AND request_key = $2",
        )
        .bind(tenant_id)
        .bind(request_key)
        .fetch_optional(self.pool())
        .await?;
        Ok(
            match row
                .map(|row| row.try_get::<Option<String>, _>("answer"))
                .transpose()?
            {
                Some(Some(answer)) => SignedRequest::Answered(answer),
                // Unanswered, or forgotten after a failed call between the two statements: in
                // both cases the caller is told to send it again later.
                Some(None) | None => SignedRequest::InProgress,
            },
        )
    }

    /// Keeps the answer a claimed request got.
    pub async fn answer_signed_request(
        &self,
        tenant_id: &str,
        request_key: &str,
        answer: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE signed_requests SET answer = $1 WHERE tenant_id = $2 AND request_key = $3",
        )
        .bind(answer)
        .bind(tenant_id)
        .bind(request_key)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Releases a claim whose call failed before acting, so that the same request may be sent
    /// again.
    pub async fn forget_signed_request(
        &self,
        tenant_id: &str,
        request_key: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM signed_requests WHERE tenant_id = $1 AND request_key = $2")
            .bind(tenant_id)
            .bind(request_key)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
