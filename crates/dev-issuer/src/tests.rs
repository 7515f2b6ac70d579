//! Unit tests through the public API; panicking on failure is the point here.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::{
    Algorithm, DEFAULT_AUDIENCE, DEFAULT_TENANT_ID, DevIssuer, Error, KEY_FILE_NAME,
    LoopbackIssuer, Shape, TokenSpec, parse_claim_arg,
};

const ISS: &str = "http://127.0.0.1:9/dev";

fn b64(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s).unwrap()
}

fn split(token: &str) -> (Value, Value, Vec<u8>, String) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "three parts");
    for p in &parts {
        assert!(!p.contains('='), "no padding");
    }
    let header = serde_json::from_slice(&b64(parts[0])).unwrap();
    let claims = serde_json::from_slice(&b64(parts[1])).unwrap();
    (
        header,
        claims,
        b64(parts[2]),
        format!("{}.{}", parts[0], parts[1]),
    )
}

/// Verifies `token` the way a verifier would: find the JWK by the header's kid,
/// check its signature with the JWK's public numbers.
fn verify_with_jwks(token: &str, jwks: &Value) -> bool {
    let (header, _, sig, signed) = split(token);
    let Some(jwk) = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
    else {
        return false;
    };
    match jwk["kty"].as_str().unwrap() {
        "RSA" => {
            let n = b64(jwk["n"].as_str().unwrap());
            let e = b64(jwk["e"].as_str().unwrap());
            RsaPublicKeyComponents { n: &n, e: &e }
                .verify(
                    &signature::RSA_PKCS1_2048_8192_SHA256,
                    signed.as_bytes(),
                    &sig,
                )
                .is_ok()
        }
        "EC" => {
            let mut point = vec![4u8];
            point.extend(b64(jwk["x"].as_str().unwrap()));
            point.extend(b64(jwk["y"].as_str().unwrap()));
            UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, &point)
                .verify(signed.as_bytes(), &sig)
                .is_ok()
        }
        other => panic!("unexpected kty {other}"),
    }
}

#[test]
fn key_file_round_trip_keeps_the_kid() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nested/data");
    let first = DevIssuer::open(&data, ISS.into()).unwrap();
    let token = first.mint_access(&TokenSpec::new("alice"));
    let second = DevIssuer::open(&data, ISS.into()).unwrap();
    assert_eq!(first.current_kid(), second.current_kid());
    assert_eq!(first.jwks(), second.jwks());
    assert!(verify_with_jwks(&token, &second.jwks()));
    assert_eq!(second.key_file(), Some(data.join(KEY_FILE_NAME).as_path()));

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(data.join(KEY_FILE_NAME))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // No temporary files left behind.
    let names: Vec<_> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from(KEY_FILE_NAME)]);
}

#[test]
fn concurrent_first_opens_agree_on_one_key() {
    let dir = tempfile::tempdir().unwrap();
    let kids: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    DevIssuer::open(dir.path(), ISS.into())
                        .unwrap()
                        .current_kid()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(kids.iter().all(|k| *k == kids[0]), "{kids:?}");
}

#[test]
fn rotation_is_persisted() {
    let dir = tempfile::tempdir().unwrap();
    let issuer = DevIssuer::open(dir.path(), ISS.into()).unwrap();
    let old = issuer.current_kid();
    let new = issuer.rotate().unwrap();
    let reopened = DevIssuer::open(dir.path(), ISS.into()).unwrap();
    assert_eq!(reopened.current_kid(), new);
    assert_eq!(reopened.kids(), vec![new.clone(), old]);
    assert_eq!(issuer.retire_old_keys().unwrap(), 1);
    let reopened = DevIssuer::open(dir.path(), ISS.into()).unwrap();
    assert_eq!(reopened.kids(), vec![new]);
}

#[test]
fn corrupted_key_files_are_clear_errors() {
    let good = {
        let dir = tempfile::tempdir().unwrap();
        DevIssuer::open(dir.path(), ISS.into()).unwrap();
        std::fs::read_to_string(dir.path().join(KEY_FILE_NAME)).unwrap()
    };
    let doc: Value = serde_json::from_str(&good).unwrap();
    let pkcs8 = doc["keys"][0]["pkcs8"].as_str().unwrap().to_owned();
    let mut truncated = STANDARD.decode(&pkcs8).unwrap();
    truncated.truncate(truncated.len() / 2);

    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("garbage", b"\x00\xffnot json".to_vec()),
        ("truncated json", good.as_bytes()[..good.len() / 2].to_vec()),
        ("json array", b"[]".to_vec()),
    ];
    let mut variant = |name: &'static str, edit: &dyn Fn(&mut Value)| {
        let mut d = doc.clone();
        edit(&mut d);
        cases.push((name, d.to_string().into_bytes()));
    };
    variant("bad base64", &|d| d["keys"][0]["pkcs8"] = json!("!!!"));
    let t = STANDARD.encode(&truncated);
    variant("truncated key", &move |d| {
        d["keys"][0]["pkcs8"] = json!(t.clone())
    });
    variant("wrong kid", &|d| d["keys"][0]["kid"] = json!("not-the-kid"));
    variant("unknown current", &|d| d["current"] = json!("nope"));
    variant("no keys", &|d| d["keys"] = json!([]));
    variant("future version", &|d| d["version"] = json!(2));
    variant("wrong alg for key", &|d| {
        d["keys"][0]["alg"] = json!("ES256")
    });
    variant("unknown alg", &|d| d["keys"][0]["alg"] = json!("none"));
    variant("wrong type", &|d| {
        d["keys"][0]["created_at"] = json!("yesterday")
    });
    let k = doc["keys"][0].clone();
    variant("duplicate kid", &move |d| {
        d["keys"].as_array_mut().unwrap().push(k.clone())
    });

    for (name, bytes) in cases {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(KEY_FILE_NAME), &bytes).unwrap();
        match DevIssuer::open(dir.path(), ISS.into()) {
            Err(Error::CorruptKeyFile { path, reason }) => {
                assert!(path.ends_with(KEY_FILE_NAME), "{name}");
                let msg = Error::CorruptKeyFile {
                    path,
                    reason: reason.clone(),
                }
                .to_string();
                assert!(msg.contains("delete it"), "{name}: {msg}");
                assert!(
                    !msg.contains(&pkcs8[..40]),
                    "{name}: key material in message"
                );
            }
            other => panic!("{name}: expected CorruptKeyFile, got {other:?}"),
        }
        // The bad file is left alone for the operator to inspect.
        assert_eq!(
            std::fs::read(dir.path().join(KEY_FILE_NAME)).unwrap(),
            bytes,
            "{name}"
        );
    }
}

#[test]
fn access_token_is_cognito_shaped_and_verifies() {
    let issuer = DevIssuer::ephemeral(ISS);
    let spec = TokenSpec::new("sub-1")
        .username("alice")
        .groups(["portcullis-admin", "ops"])
        .scopes(["openid", "email"])
        .amr(["pwd", "mfa"])
        .origin_jti("session-1")
        .claim("custom:tier", 3)
        .issued_at(1_700_000_000);
    let token = issuer.mint_access(&spec);
    let (header, claims, sig, _) = split(&token);
    assert_eq!(header, json!({"alg": "RS256", "kid": issuer.current_kid()}));
    assert_eq!(sig.len(), 256);
    assert_eq!(claims["iss"], ISS);
    assert_eq!(claims["sub"], "sub-1");
    assert_eq!(claims["token_use"], "access");
    assert_eq!(claims["client_id"], "portcullis-dev");
    assert_eq!(claims["scope"], "openid email");
    assert_eq!(claims["username"], "alice");
    assert_eq!(claims["cognito:groups"], json!(["portcullis-admin", "ops"]));
    assert_eq!(claims["amr"], json!(["pwd", "mfa"]));
    assert_eq!(claims["origin_jti"], "session-1");
    assert_eq!(claims["custom:tier"], 3);
    assert_eq!(claims["iat"], 1_700_000_000);
    assert_eq!(claims["auth_time"], 1_700_000_000);
    assert_eq!(claims["exp"], 1_700_003_600);
    let jti = uuid::Uuid::parse_str(claims["jti"].as_str().unwrap()).unwrap();
    assert_eq!(jti.get_version_num(), 7);
    assert!(claims.get("aud").is_none());
    assert!(verify_with_jwks(&token, &issuer.jwks()));

    // Tampering with the payload breaks the signature.
    let (h, _, s) = {
        let p: Vec<&str> = token.split('.').collect();
        (p[0].to_owned(), p[1].to_owned(), p[2].to_owned())
    };
    let forged = URL_SAFE_NO_PAD.encode(json!({"sub": "root"}).to_string());
    assert!(!verify_with_jwks(
        &format!("{h}.{forged}.{s}"),
        &issuer.jwks()
    ));
}

#[test]
fn defaults_and_overrides() {
    let issuer = DevIssuer::ephemeral(ISS);
    let (_, claims, _, _) = split(&issuer.mint_access(&TokenSpec::default()));
    assert_eq!(claims["sub"], "dev-user");
    assert_eq!(claims["username"], "dev-user");
    assert_eq!(claims["scope"], "openid profile");
    assert!(claims.get("cognito:groups").is_none());
    assert!(claims.get("amr").is_none());
    let now = crate::issuer::unix_now();
    let iat = claims["iat"].as_i64().unwrap();
    assert!((now - iat).abs() <= 5);
    assert_eq!(claims["exp"].as_i64().unwrap() - iat, 3600);
    assert_ne!(claims["jti"], claims["origin_jti"]);

    let spec = TokenSpec::new("x")
        .ttl(Duration::from_secs(60))
        .claim("token_use", "id")
        .omit("exp");
    let (_, claims, _, _) = split(&issuer.mint_access(&spec));
    assert_eq!(claims["token_use"], "id");
    assert!(claims.get("exp").is_none());
}

#[test]
fn id_token_shape() {
    let issuer = DevIssuer::ephemeral(ISS);
    let pair = issuer.mint_pair(&TokenSpec::new("sub-2").client_id("app").groups(["g"]));
    let (_, id, _, _) = split(&pair.id_token);
    let (_, access, _, _) = split(&pair.access_token);
    assert_eq!(id["token_use"], "id");
    assert_eq!(id["aud"], "app");
    assert_eq!(id["cognito:username"], "sub-2");
    assert_eq!(id["email"], "sub-2@example.com");
    assert_eq!(id["cognito:groups"], json!(["g"]));
    assert!(id.get("scope").is_none() && id.get("client_id").is_none());
    assert_eq!(id["origin_jti"], access["origin_jti"]);
    assert_eq!(id["origin_jti"], pair.origin_jti.as_str());
    assert_ne!(id["jti"], access["jti"]);
    assert!(verify_with_jwks(&pair.id_token, &issuer.jwks()));
}

#[test]
fn rotation_overlap_then_retirement() {
    let issuer = DevIssuer::ephemeral(ISS);
    let old_kid = issuer.current_kid();
    let old_token = issuer.mint_access(&TokenSpec::default());
    let new_kid = issuer.rotate().unwrap();
    assert_ne!(old_kid, new_kid);
    assert_eq!(issuer.current_kid(), new_kid);

    let jwks = issuer.jwks();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, vec![new_kid.as_str(), old_kid.as_str()]);
    for k in jwks["keys"].as_array().unwrap() {
        assert_eq!(k["kty"], "RSA");
        assert_eq!(k["use"], "sig");
        assert_eq!(k["alg"], "RS256");
        assert_eq!(k["e"], "AQAB");
        assert_eq!(b64(k["n"].as_str().unwrap()).len(), 256);
        let kid = k["kid"].as_str().unwrap();
        assert!(
            kid.len() <= 32
                && kid
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
    }
    let new_token = issuer.mint_access(&TokenSpec::default());
    assert_eq!(split(&new_token).0["kid"], new_kid.as_str());
    assert!(verify_with_jwks(&old_token, &jwks));
    assert!(verify_with_jwks(&new_token, &jwks));

    // Within the overlap nothing goes; past it the old key does.
    assert_eq!(
        issuer
            .retire_keys_older_than(Duration::from_secs(3600))
            .unwrap(),
        0
    );
    assert_eq!(issuer.retire_keys_older_than(Duration::ZERO).unwrap(), 1);
    assert_eq!(issuer.kids(), vec![new_kid]);
    assert!(!verify_with_jwks(&old_token, &issuer.jwks()));
    assert!(verify_with_jwks(&new_token, &issuer.jwks()));
    assert_eq!(issuer.retire_old_keys().unwrap(), 0);
}

#[test]
fn es256_keys_sign_and_publish() {
    let issuer = DevIssuer::try_ephemeral(ISS, Algorithm::Es256).unwrap();
    let token = issuer.mint_access(&TokenSpec::default());
    let (header, _, sig, _) = split(&token);
    assert_eq!(header["alg"], "ES256");
    assert_eq!(sig.len(), 64);
    let jwk = &issuer.jwks()["keys"][0];
    assert_eq!(jwk["kty"], "EC");
    assert_eq!(jwk["crv"], "P-256");
    assert!(verify_with_jwks(&token, &issuer.jwks()));

    issuer.rotate_to(Algorithm::Rs256).unwrap();
    assert_eq!(issuer.current_alg(), Algorithm::Rs256);
    assert_eq!(
        issuer.openid_configuration()["id_token_signing_alg_values_supported"],
        json!(["RS256", "ES256"])
    );
    assert!(verify_with_jwks(&token, &issuer.jwks()));
}

#[test]
fn sign_raw_uses_the_header_verbatim() {
    let issuer = DevIssuer::ephemeral(ISS);
    let header = json!({"alg": "RS256", "kid": issuer.current_kid(), "jku": "https://evil.example/jwks", "typ": "JWT"});
    let token = issuer.sign_raw(&header, &json!({"sub": "x"}));
    let (h, c, _, _) = split(&token);
    assert_eq!(h, header);
    assert_eq!(c, json!({"sub": "x"}));
    assert!(verify_with_jwks(&token, &issuer.jwks()));

    // A token from another issuer's key does not verify against this JWKS, even with our kid.
    let other = DevIssuer::ephemeral(ISS);
    let foreign = other.sign_raw(
        &json!({"alg": "RS256", "kid": issuer.current_kid()}),
        &json!({}),
    );
    assert!(!verify_with_jwks(&foreign, &issuer.jwks()));

    let raw = issuer.sign_parts(b"{\"alg\":\"RS256\"", b"not json");
    assert_eq!(raw.split('.').count(), 3);
    assert!(
        issuer
            .current_public_key_pem()
            .starts_with("-----BEGIN PUBLIC KEY-----\nMII")
    );
}

#[test]
fn claim_args_parse_json_or_string() {
    assert_eq!(parse_claim_arg("n=3").unwrap(), ("n".into(), json!(3)));
    assert_eq!(
        parse_claim_arg("b=true").unwrap(),
        ("b".into(), json!(true))
    );
    assert_eq!(
        parse_claim_arg("l=[\"a\"]").unwrap(),
        ("l".into(), json!(["a"]))
    );
    assert_eq!(
        parse_claim_arg("s=hello world").unwrap(),
        ("s".into(), json!("hello world"))
    );
    assert_eq!(
        parse_claim_arg("eq=a=b").unwrap(),
        ("eq".into(), json!("a=b"))
    );
    assert_eq!(
        parse_claim_arg("empty=").unwrap(),
        ("empty".into(), json!(""))
    );
    assert_eq!(
        parse_claim_arg("custom:org=acme").unwrap(),
        ("custom:org".into(), json!("acme"))
    );
    assert!(matches!(
        parse_claim_arg("novalue"),
        Err(Error::InvalidClaimArg { .. })
    ));
    assert!(matches!(
        parse_claim_arg("=x"),
        Err(Error::InvalidClaimArg { .. })
    ));
    let spec = TokenSpec::default().claim_arg("amr=[\"mfa\"]").unwrap();
    assert_eq!(spec.extra["amr"], json!(["mfa"]));
}

async fn get(
    app: axum::Router,
    uri: &str,
    if_none_match: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut req = Request::get(uri);
    if let Some(tag) = if_none_match {
        req = req.header("if-none-match", tag);
    }
    let resp = app.oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap()
        .to_vec();
    (status, headers, body)
}

#[tokio::test]
async fn jwks_etag_and_not_modified() {
    let issuer = Arc::new(DevIssuer::ephemeral(ISS));
    let app = crate::router(Arc::clone(&issuer));
    let (status, headers, body) = get(app.clone(), "/.well-known/jwks.json", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["cache-control"], "public, max-age=300");
    assert_eq!(headers["content-type"], "application/json");
    let etag = headers["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'));
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap(),
        issuer.jwks()
    );

    for tag in [
        etag.clone(),
        format!("W/{etag}"),
        format!("\"other\", {etag}"),
        "*".to_owned(),
    ] {
        let (status, headers, body) = get(app.clone(), "/.well-known/jwks.json", Some(&tag)).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "{tag}");
        assert_eq!(headers["etag"], etag.as_str());
        assert!(body.is_empty());
    }
    let (status, _, _) = get(app.clone(), "/.well-known/jwks.json", Some("\"stale\"")).await;
    assert_eq!(status, StatusCode::OK);

    // A rotation is visible to the very next fetch, under a new ETag.
    let new_kid = issuer.rotate().unwrap();
    let (status, headers, body) = get(app, "/.well-known/jwks.json", Some(&etag)).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(headers["etag"], etag.as_str());
    let jwks: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(jwks["keys"][0]["kid"], new_kid.as_str());
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn nested_router_serves_discovery_under_the_prefix() {
    let issuer = Arc::new(DevIssuer::ephemeral("http://127.0.0.1:8080/dev-issuer"));
    let app = axum::Router::new().nest("/dev-issuer", crate::router(Arc::clone(&issuer)));
    let (status, _, body) = get(
        app.clone(),
        "/dev-issuer/.well-known/openid-configuration",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let doc: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(doc["issuer"], "http://127.0.0.1:8080/dev-issuer");
    assert_eq!(
        doc["jwks_uri"],
        "http://127.0.0.1:8080/dev-issuer/.well-known/jwks.json"
    );
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
    for field in [
        "authorization_endpoint",
        "response_types_supported",
        "subject_types_supported",
    ] {
        assert!(doc.get(field).is_some(), "{field}");
    }
    let (status, _, _) = get(app.clone(), "/dev-issuer/.well-known/jwks.json", None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = get(app, "/.well-known/jwks.json", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn loopback_issuer_serves_real_http() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let idp = LoopbackIssuer::start().await.unwrap();
    assert_eq!(idp.issuer_url(), format!("http://{}", idp.addr));
    let mut stream = tokio::net::TcpStream::connect(idp.addr).await.unwrap();
    stream
        .write_all(
            b"GET /.well-known/jwks.json HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        )
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains(&idp.issuer.current_kid()));

    let (addr, task) = crate::serve_on_loopback(Arc::clone(&idp.issuer))
        .await
        .unwrap();
    assert!(addr.ip().is_loopback());
    task.abort();
}

#[test]
fn every_shape_parses_back_from_its_name() {
    for shape in Shape::ALL {
        assert_eq!(shape.name().parse::<Shape>(), Ok(shape));
    }
    assert!("azure".parse::<Shape>().is_err());
    assert_eq!(TokenSpec::default().shape, Shape::Cognito);
}

#[test]
fn shapes_carry_their_providers_claims() {
    let issuer = DevIssuer::ephemeral("http://127.0.0.1:9/");
    let spec = |shape| {
        TokenSpec::new("alice")
            .shape(shape)
            .groups(["admin"])
            .scopes(["read", "write"])
    };
    let mint = |shape| {
        let token = issuer.mint_access(&spec(shape));
        let (header, claims, _, _) = split(&token);
        assert!(verify_with_jwks(&token, &issuer.jwks()), "{shape}");
        assert_eq!(claims["iss"], "http://127.0.0.1:9/", "{shape}");
        assert_eq!(claims["sub"], "alice", "{shape}");
        (header, claims)
    };

    let (header, c) = mint(Shape::Auth0);
    assert_eq!(header["typ"], "JWT");
    assert_eq!(
        c["aud"],
        json!([DEFAULT_AUDIENCE, "http://127.0.0.1:9/userinfo"])
    );
    assert_eq!(c["permissions"], json!(["admin"]));
    assert_eq!(c["scope"], "read write");
    assert!(c.get("token_use").is_none());

    let (_, c) = mint(Shape::Entra);
    assert_eq!(
        (c["ver"].as_str(), c["tid"].as_str()),
        (Some("2.0"), Some(DEFAULT_TENANT_ID))
    );
    assert_eq!(c["roles"], json!(["admin"]));
    assert_eq!(c["scp"], "read write");
    assert_eq!(c["azp"], crate::DEFAULT_CLIENT_ID);
    let (_, c) = mint(Shape::EntraV1);
    assert_eq!(c["ver"], "1.0");
    assert_eq!(c["appid"], crate::DEFAULT_CLIENT_ID);

    let (_, c) = mint(Shape::Keycloak);
    assert_eq!(c["typ"], "Bearer");
    assert_eq!(c["aud"], json!([DEFAULT_AUDIENCE, "account"]));
    assert_eq!(c["realm_access"]["roles"], json!(["admin"]));

    let (_, c) = mint(Shape::Okta);
    assert_eq!(c["scp"], json!(["read", "write"]));
    assert_eq!(c["cid"], crate::DEFAULT_CLIENT_ID);
    assert_eq!(c["groups"], json!(["admin"]));

    let (_, c) = mint(Shape::Google);
    assert_eq!(c["aud"], crate::DEFAULT_CLIENT_ID);
    assert_eq!(c["email_verified"], true);
    assert!(c.get("hd").is_none() && c.get("scope").is_none());
    let hd = issuer.mint_access(&spec(Shape::Google).tenant("example.com"));
    assert_eq!(split(&hd).1["hd"], "example.com");

    let (header, c) = mint(Shape::Oidc);
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(c["aud"], DEFAULT_AUDIENCE);
    assert_eq!(c["groups"], json!(["admin"]));

    // Overrides and omissions apply to every shape.
    let t = issuer.mint_access(&spec(Shape::Entra).tenant("t").claim("x", 1).omit("scp"));
    let (_, c, _, _) = split(&t);
    assert_eq!((c["tid"].as_str(), c["x"].as_i64()), (Some("t"), Some(1)));
    assert!(c.get("scp").is_none());
}

#[tokio::test]
async fn a_mounted_issuer_names_the_url_it_runs_under() {
    let addr: std::net::SocketAddr = "127.0.0.1:9".parse().unwrap();
    for (path, expected) in [
        ("", "http://127.0.0.1:9"),
        ("/", "http://127.0.0.1:9/"),
        ("/realms/main", "http://127.0.0.1:9/realms/main"),
        ("t/v2.0", "http://127.0.0.1:9/t/v2.0"),
    ] {
        let url = crate::http::issuer_url_at(addr, path);
        assert_eq!(url, expected);
        let issuer = Arc::new(DevIssuer::ephemeral(url.clone()));
        let app = crate::http::mount(path, crate::router(issuer));
        let base = url
            .trim_start_matches("http://127.0.0.1:9")
            .trim_end_matches('/');
        let (status, _, body) = get(
            app.clone(),
            &format!("{base}/.well-known/openid-configuration"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let doc: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(doc["issuer"], expected);
        let (status, _, _) = get(app, &format!("{base}/.well-known/jwks.json"), None).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
}
