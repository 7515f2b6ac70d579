//! The audit context of a change made through the API.

use crate::principal::Principal;
use crate::state::AppState;
use crate::telemetry::request_id::RequestId;
use portcullis_store::ChangeContext;

/// Who (the caller), under which request id, and when (the injected clock).
pub fn context(state: &AppState, principal: &Principal) -> ChangeContext {
    let request_id = RequestId::current()
        .map(|id| id.to_string())
        .unwrap_or_default();
    ChangeContext::new(Some(principal.user_id()), request_id, state.clock.now())
}
