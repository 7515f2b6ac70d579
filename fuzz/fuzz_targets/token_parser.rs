//! Feeds arbitrary bytes to every parsing stage that runs before a signature is checked:
//! splitting, header rules, duplicate-member detection and strict claim typing. None of them
//! may panic, whatever the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_auth::jwt::{self, Claims};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(parts) = jwt::split(text) {
        let _ = jwt::parse_header(&parts.header);
        if let Ok(payload) = jwt::Payload::parse(&parts.payload) {
            let _ = payload.issuer();
            let _ = Claims::from_payload(payload);
        }
    }
    // The header and claims parsers also see raw bytes directly.
    let _ = jwt::parse_header(data);
    if let Ok(payload) = jwt::Payload::parse(data) {
        let _ = Claims::from_payload(payload);
    }
});
