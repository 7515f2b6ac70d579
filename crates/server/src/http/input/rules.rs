//! The rule of each field of a request body or query, and the `errors` a client gets when a
//! field breaks one: the field's name (a JSON pointer, or the parameter's name) and the rule,
//! never the value.

use super::fault::{Fault, Kind, Segment};
use crate::http::problem::{FieldError, Location};
use std::borrow::Cow;

/// Implemented by every request body and query type: its fields and the rule of each, worded
/// to follow the field's name ("must be ...").
pub trait Rules {
    const RULES: &'static [(&'static str, &'static str)];
}

/// Declares [`Rules`] for a type: `rules!(NewOrg { name: "must be ..." })`.
macro_rules! rules {
    ($ty:ty { $($field:ident : $rule:expr),* $(,)? }) => {
        impl $crate::http::input::Rules for $ty {
            const RULES: &'static [(&'static str, &'static str)] =
                &[$((stringify!($field), $rule)),*];
        }
    };
}
pub(crate) use rules;

/// Rules shared by several fields, as the store checks them (`portcullis_store::validate`).
pub const NAME: &str =
    "must be a string of 1 to 200 characters, not only whitespace, without NUL characters";
pub const KIND: &str = "must be a string of 1 to 64 of a-z, 0-9, '_', '.', '-'";
pub const DATA: &str =
    "must be JSON of at most 512 KiB without NUL characters in its strings or keys";
pub const SUB: &str = "must be a string of 1 to 255 bytes without NUL characters";
pub const ISSUER: &str =
    "must be an issuer (the tokens' iss) of 1 to 1024 bytes without NUL characters";

/// An issuer as links and identities name it: exactly the `iss` of its tokens.
pub fn issuer_ok(s: &str) -> bool {
    !s.is_empty() && s.len() <= 1024 && !s.contains('\0')
}
pub const TEXT: &str = "must be text without NUL characters";
pub const ROLE: &str = "must be one of owner, admin, member, viewer";
pub const USER_ID: &str = "must be a user id (a UUID)";
pub const ORG_ID: &str = "must be an org id (a UUID)";
pub const TIME: &str = "must be an RFC 3339 date and time, such as 2026-01-31T12:00:00Z";
pub const PAGE_SIZE: &str = "must be an integer between 1 and 100";
pub const CURSOR: &str =
    "must be the next_cursor of the previous page of this list, with the same filters";

/// An unknown field's name is repeated to the client (that is how it learns which one), but
/// only a short one: anything longer is more likely a payload than a typo.
const MAX_ECHOED_NAME: usize = 64;
/// Enough to show a client its mistakes without turning a body of junk fields into a large
/// answer.
const MAX_ERRORS: usize = 20;

/// Where the fields are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Body,
    Query,
}

/// The `errors` for `fault`. `names` are the names the client sent at the top level (the
/// body's members or the query's parameters): every unknown one is reported at once.
pub fn report<'a, T: Rules>(
    fault: &Fault,
    place: Place,
    names: impl Iterator<Item = &'a str>,
) -> Vec<FieldError> {
    let path: Vec<Segment> = fault.path().cloned().collect();
    let detail: Cow<'static, str> = match fault.kind {
        Kind::Unknown { accepted } if path.len() == 1 => return unknown(accepted, place, names),
        Kind::Unknown { accepted } => accepted_list("is not a known field", accepted),
        Kind::Missing => "is required".into(),
        Kind::Duplicate => "must be given only once".into(),
        Kind::Invalid { variants } => match (fault.field().and_then(rule::<T>), variants) {
            (Some(rule), _) => rule.into(),
            (None, Some(names)) => accepted_list("must be one of", names),
            (None, None) if path.is_empty() => "must be a JSON object".into(),
            (None, None) => "is not valid".into(),
        },
    };
    vec![FieldError {
        at: location(place, &path),
        detail,
    }]
}

fn rule<T: Rules>(field: &str) -> Option<&'static str> {
    T::RULES.iter().find(|(f, _)| *f == field).map(|(_, r)| *r)
}

/// A body field by JSON pointer, a parameter by name (a query is flat: only the first segment
/// can be there).
fn location(place: Place, path: &[Segment]) -> Location {
    match (place, path.first()) {
        (Place::Body, _) => Location::Pointer(pointer(path)),
        (Place::Query, Some(Segment::Key(name))) => Location::Parameter(name.clone()),
        (Place::Query, _) => Location::Parameter(String::new()),
    }
}

/// One error per unknown name the client sent, each listing the accepted ones.
fn unknown<'a>(
    accepted: &'static [&'static str],
    place: Place,
    names: impl Iterator<Item = &'a str>,
) -> Vec<FieldError> {
    let (what, too_long) = match place {
        Place::Body => (
            "is not a known field",
            "has a field that is not known (its name is too long to repeat)",
        ),
        Place::Query => (
            "is not a known parameter",
            "has a parameter that is not known (its name is too long to repeat)",
        ),
    };
    let detail = accepted_list(what, accepted);
    let mut seen: Vec<&str> = Vec::new();
    let mut long = false;
    for name in names.filter(|n| !accepted.contains(n)) {
        if name.len() > MAX_ECHOED_NAME {
            long = true;
        } else if seen.len() < MAX_ERRORS && !seen.contains(&name) {
            seen.push(name);
        }
    }
    let mut errors: Vec<FieldError> = seen
        .into_iter()
        .map(|name| FieldError {
            at: location(place, &[Segment::Key(name.to_owned())]),
            detail: detail.clone(),
        })
        .collect();
    if long || errors.is_empty() {
        errors.truncate(MAX_ERRORS - 1);
        errors.push(FieldError {
            at: location(place, &[]),
            detail: accepted_list(too_long, accepted),
        });
    }
    errors
}

fn accepted_list(what: &str, accepted: &[&str]) -> Cow<'static, str> {
    if accepted.is_empty() {
        format!("{what}; none is accepted").into()
    } else {
        format!("{what}; accepted: {}", accepted.join(", ")).into()
    }
}

/// RFC 6901: `~` is written `~0` and `/` is written `~1`.
fn pointer(path: &[Segment]) -> String {
    let mut out = String::new();
    for segment in path {
        out.push('/');
        match segment {
            Segment::Key(k) => out.push_str(&k.replace('~', "~0").replace('/', "~1")),
            Segment::Index(i) => out.push_str(&i.to_string()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        size: Option<u32>,
    }

    rules!(Body {
        name: "must be a string of 1 to 10 characters",
        size: "must be a whole number",
    });

    fn errors(v: serde_json::Value) -> Vec<FieldError> {
        let fault = super::super::json::from_value::<Body>(&v).expect_err("refused");
        let names: Vec<String> = v
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        report::<Body>(&fault, Place::Body, names.iter().map(String::as_str))
    }

    fn at(p: &str) -> Location {
        Location::Pointer(p.to_owned())
    }

    #[test]
    fn a_wrong_value_gets_the_field_rule() {
        let e = errors(json!({"name": 1}));
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].at, at("/name"));
        assert_eq!(e[0].detail, "must be a string of 1 to 10 characters");
        assert_eq!(errors(json!({}))[0].detail, "is required");
        assert_eq!(errors(json!([]))[0].at, at(""));
    }

    #[test]
    fn every_unknown_field_is_named_with_the_accepted_ones() {
        let e = errors(json!({"name": "n", "a/b": 1, "c~d": 2}));
        let at_: Vec<_> = e.iter().map(|e| e.at.clone()).collect();
        assert_eq!(at_, [at("/a~1b"), at("/c~0d")]);
        assert!(
            e.iter()
                .all(|e| e.detail == "is not a known field; accepted: name, size")
        );
    }

    #[test]
    fn a_long_unknown_name_is_not_repeated() {
        let long = "x".repeat(MAX_ECHOED_NAME + 1);
        let e = errors(json!({"name": "n", long.clone(): 1}));
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].at, at(""));
        assert!(!format!("{e:?}").contains(&long));
    }

    #[test]
    fn errors_are_bounded() {
        let mut m = serde_json::Map::new();
        for i in 0..100 {
            m.insert(format!("junk{i}"), json!(1));
        }
        assert_eq!(errors(serde_json::Value::Object(m)).len(), MAX_ERRORS);
    }
}
