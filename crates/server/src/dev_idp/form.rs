//! `application/x-www-form-urlencoded` parameters, as OAuth reads them (RFC 6749 §3.1): a
//! parameter sent without a value counts as omitted, and one sent twice is an error.

use std::collections::HashMap;

#[derive(Debug, Default, Clone)]
pub struct Params(HashMap<String, String>);

impl Params {
    /// `Err` names the first parameter given more than once.
    pub fn parse(raw: &[u8]) -> Result<Self, String> {
        let mut map = HashMap::new();
        for (k, v) in url::form_urlencoded::parse(raw) {
            if v.is_empty() {
                continue;
            }
            if map.insert(k.to_string(), v.into_owned()).is_some() {
                return Err(k.into_owned());
            }
        }
        Ok(Self(map))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}
