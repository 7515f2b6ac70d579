//! The socket operations that hand out org data, and the HTTP routes whose data each exposes.
//! A socket operation obeys the caller-level MFA rule of those routes (`mfa.routes` among them)
//! exactly as a request to them would, so listing a route there protects its data on both
//! paths.

/// A socket operation that hands out data of an org.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Live resource events: ids, action and version, what the resource routes return.
    Subscribe,
    /// Every live resource in full, as `GET` returns them.
    Export,
}

const RESOURCES: &str = "/v1/orgs/{org_id}/resources";
const RESOURCE: &str = "/v1/orgs/{org_id}/resources/{id}";

impl Operation {
    /// The route templates, exactly as routed, whose data the operation exposes. A `match`, so
    /// a new operation cannot be added without saying what it exposes.
    pub fn routes(self) -> &'static [&'static str] {
        match self {
            Self::Subscribe => &[RESOURCES, RESOURCE],
            Self::Export => &[RESOURCES, RESOURCE],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The templates must be the router's own spelling, or `mfa.routes` would never match them.
    #[test]
    fn every_exposed_route_is_routed() {
        use utoipa::OpenApi;
        let spec = crate::http::openapi::ApiDoc::openapi();
        for op in [Operation::Subscribe, Operation::Export] {
            for route in op.routes() {
                assert!(spec.paths.paths.contains_key(*route), "{op:?}: {route}");
            }
        }
    }
}
