//! What serde reports about a request field that does not fit, kept as a kind and a place.
//! serde's own messages are never kept: they can quote the value ("invalid type: string
//! \"hunter2\""), and the client is only ever told the field's name and its rule.

use serde::de;
use std::fmt;

/// How a field broke its type's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A required field is absent.
    Missing,
    /// A field that the type does not have; `accepted` are the ones it has.
    Unknown { accepted: &'static [&'static str] },
    /// The same field twice (query strings only: a JSON object keeps the last).
    Duplicate,
    /// The value has the wrong type or is out of its rule; `variants` when the type is a
    /// closed set of names.
    Invalid {
        variants: Option<&'static [&'static str]>,
    },
}

/// A deserialization error: its kind and the path to the field, innermost segment first
/// while it travels up (each container adds its own on the way out), see [`Fault::path`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub kind: Kind,
    reversed: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

impl Fault {
    fn new(kind: Kind) -> Self {
        Self {
            kind,
            reversed: Vec::new(),
        }
    }

    fn at(kind: Kind, field: &str) -> Self {
        Self {
            kind,
            reversed: vec![Segment::Key(field.to_owned())],
        }
    }

    /// The same fault, one level further out: `segment` is where the failing value sits in
    /// its container.
    pub fn under(mut self, segment: Segment) -> Self {
        self.reversed.push(segment);
        self
    }

    /// From the root to the field at fault; empty for the request as a whole.
    pub fn path(&self) -> impl Iterator<Item = &Segment> {
        self.reversed.iter().rev()
    }

    /// The top-level field the fault is in, if it is in one.
    pub fn field(&self) -> Option<&str> {
        match self.reversed.last() {
            Some(Segment::Key(k)) => Some(k),
            _ => None,
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} at {:?}",
            self.kind,
            self.path().collect::<Vec<_>>()
        )
    }
}

impl std::error::Error for Fault {}

/// Every constructor records the kind and the field name serde hands over, and drops the rest
/// (the unexpected value, the message).
impl de::Error for Fault {
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        Self::new(Kind::Invalid { variants: None })
    }

    fn invalid_type(_unexp: de::Unexpected<'_>, _exp: &dyn de::Expected) -> Self {
        Self::new(Kind::Invalid { variants: None })
    }

    fn invalid_value(_unexp: de::Unexpected<'_>, _exp: &dyn de::Expected) -> Self {
        Self::new(Kind::Invalid { variants: None })
    }

    fn invalid_length(_len: usize, _exp: &dyn de::Expected) -> Self {
        Self::new(Kind::Invalid { variants: None })
    }

    fn unknown_variant(_variant: &str, expected: &'static [&'static str]) -> Self {
        Self::new(Kind::Invalid {
            variants: Some(expected),
        })
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        Self::at(Kind::Unknown { accepted: expected }, field)
    }

    fn missing_field(field: &'static str) -> Self {
        Self::at(Kind::Missing, field)
    }

    fn duplicate_field(field: &'static str) -> Self {
        Self::at(Kind::Duplicate, field)
    }
}
